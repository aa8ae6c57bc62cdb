import { describe, expect, it } from 'vitest';
import { lease, type DropResult } from '../../src/index.js';
import { renderDrop } from '../../src/cli/render/local.js';
import { parseJson, runCli } from '../support/cli.js';
import { local } from '../support/db.js';
import type { TestProject } from '../support/project.js';
import { eventually, poolProject, pooledOf } from './support.js';

/*
 * What `pool drain`, `drop --stale` and `drop --templates` print: each database they dropped
 * once, with one reason; and dropping a template takes its ready pooled databases with it,
 * while a lease a running process holds stays (and the output says so).
 */

const server = local.adminUrl;
const env = { DBFAST_CONFIG: undefined, DBFAST_POOL_SIZE: undefined };

interface Dropped {
  dropped: Array<{ name: string; kind?: string; reason?: string }>;
  kept?: Array<{ name: string; reason: string }>;
}

async function cli<T>(project: TestProject, args: string[]): Promise<T> {
  const result = await runCli(['--json', ...args], { cwd: project.dir, env });
  expect(result.exitCode, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
  return parseJson<T>(result);
}

function expectEachOnce(dropped: Dropped['dropped']): void {
  const names = dropped.map((entry) => entry.name);
  expect(names).toEqual([...new Set(names)]);
}

/** Two ready databases of a rebuilt template (a rebuild also leaves spares, made by the background worker). */
async function readyOfRebuilt(project: TestProject): Promise<string[]> {
  await cli(project, ['build']);
  project.write('1_seed/020_more.sql', "INSERT INTO item (name) VALUES ('mug');\n");
  await cli(project, ['build']);
  return (await cli<{ created: string[] }>(project, ['pool', 'fill', '--size', '2'])).created;
}

describe('commands that list what they dropped', () => {
  it('pool drain names each database once: outdated ready ones with their reason, current ones as drained', async () => {
    const project = poolProject();
    const outdated = (await cli<{ created: string[] }>(project, ['pool', 'fill', '--size', '2'])).created;
    project.write('1_seed/020_more.sql', "INSERT INTO item (name) VALUES ('mug');\n");
    await cli(project, ['build']);
    const drained = await cli<Dropped>(project, ['pool', 'drain']);
    expectEachOnce(drained.dropped);
    expect(drained.dropped.map((entry) => entry.name).sort()).toEqual([...outdated].sort());
    for (const entry of drained.dropped) expect(entry.reason).toBe(`made from an older build of ${project.template()}`);
    expect(await pooledOf(server, project.template())).toEqual([]);
  });

  it('drop --templates drops the ready databases of the templates it drops; a live lease stays and is named; drop --stale takes it once released', async () => {
    const project = poolProject();
    const current = await readyOfRebuilt(project);
    expect(current).toHaveLength(2);
    // A one-off lease takes one of the ready ones and holds it, as a running test would.
    const held = await lease({ config: project.config() });
    const left = (await pooledOf(server, project.template())).filter((row) => row.state === 'ready').map((row) => row.name);
    expect(left).toHaveLength(1);
    try {
      const result = await cli<Dropped>(project, ['drop', '--templates', '--yes']);
      expectEachOnce(result.dropped);
      expect(result.dropped).toContainEqual({ name: project.template(), kind: 'template' });
      expect(result.dropped).toContainEqual({ name: left[0], kind: 'pool', reason: `its template ${project.template()} is dropped` });
      expect(result.kept).toEqual([{ name: held.database, reason: expect.stringMatching(/^leased by dbfast pool \d+@/) }]);
      // Only the live lease is left of the pool.
      expect((await pooledOf(server, project.template())).map((row) => row.name)).toEqual([held.database]);
      expect(renderDrop({ dropped: result.dropped as DropResult['dropped'], kept: result.kept ?? [] })).toContain(`kept pool ${held.database} (leased by dbfast pool`);
    } finally {
      await held.release();
    }
    const dropped: Dropped['dropped'] = [];
    await eventually(async () => {
      dropped.push(...(await cli<Dropped>(project, ['drop', '--stale'])).dropped);
      return (await pooledOf(server, project.template())).length === 0;
    }, 'drop --stale drops what the released lease became');
    expectEachOnce(dropped);
  });

  it('drop --templates --stale names each database once, with one reason', async () => {
    const project = poolProject();
    const current = await readyOfRebuilt(project);
    const result = await cli<Dropped>(project, ['drop', '--templates', '--stale', '--yes']);
    expectEachOnce(result.dropped);
    for (const name of current) expect(result.dropped).toContainEqual({ name, kind: 'pool', reason: `its template ${project.template()} is dropped` });
    expect(result.kept).toEqual([]);
    expect(await pooledOf(server, project.template())).toEqual([]);
  });
});
