import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { local, query } from '../support/db.js';
import type { TestProject } from '../support/project.js';
import { eventually, itemNames, poolProject, pooledOf } from './support.js';

const server = local.adminUrl;
const env = { DBFAST_CONFIG: undefined, DBFAST_POOL_SIZE: undefined };

interface StatusJson {
  maxClones: number;
  total: number;
  environments: Array<{ environment: string; template: string; size: number; ready: number; stale: number }>;
  databases: Array<{ name: string; state: string; stale: boolean }>;
}

async function cli<T>(project: TestProject, args: string[], extra: Record<string, string | undefined> = {}): Promise<T> {
  const result = await runCli(['--json', ...args], { cwd: project.dir, env: { ...env, ...extra } });
  expect(result.exitCode, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(0);
  return parseJson<T>(result);
}

describe('dbfast pool (CLI) and seed from the pool', () => {
  it('seed takes a ready database from the pool and leaves a refill running in the background', async () => {
    const project = poolProject('max_clones = 200\nsize = 1');
    const fill = await cli<{ ready: number; size: number; created: string[] }>(project, ['pool', 'fill']);
    expect(fill).toMatchObject({ ready: 1, size: 1 });
    expect(fill.created).toHaveLength(1);
    const status = await cli<StatusJson>(project, ['pool', 'status']);
    expect(status.environments).toEqual([{ environment: 'local', template: project.template(), size: 1, ready: 1, stale: 0 }]);
    expect(status.maxClones).toBe(200);
    const name = `${project.templateName}_c_pooled`;
    const seeded = await cli<{ database: string; fromPool: boolean; refill: boolean; cloneMs: number }>(project, ['seed', '-o', name]);
    expect(seeded).toMatchObject({ database: name, fromPool: true, refill: true });
    expect(await itemNames(server, name)).toEqual(['kettle', 'teapot']);
    // It was renamed, not copied: the ready one is gone, and the seeded one is a plain clone now.
    expect((await pooledOf(server, project.template())).map((row) => row.name)).not.toContain(fill.created[0]);
    const listed = await cli<{ databases: Array<{ name: string; kind: string }> }>(project, ['list']);
    expect(listed.databases.find((database) => database.name === name)?.kind).toBe('clone');
    // The detached refill makes the next one.
    await eventually(async () => (await cli<StatusJson>(project, ['pool', 'status'])).environments[0]?.ready === 1, 'the background refill made a ready database', 60_000);
    expect(existsSync(path.join(project.dir, '.dbfast', 'pool-fill.log'))).toBe(true);
    const second = await cli<{ fromPool: boolean }>(project, ['seed', '-o', `${name}_2`]);
    expect(second.fromPool).toBe(true);
    await eventually(async () => (await cli<StatusJson>(project, ['pool', 'status'])).environments[0]?.ready === 1, 'refilled again', 60_000);
    const drained = await cli<{ dropped: Array<{ name: string; reason: string }> }>(project, ['pool', 'drain']);
    expect(drained.dropped).toEqual([{ name: expect.stringMatching(/__dbfast_ready_[0-9a-f]{8}$/), template: project.template(), reason: 'drained' }]);
    // Size 0 (DBFAST_POOL_SIZE, or [pool] size = 0): a plain clone and no refill.
    const plain = await cli<{ fromPool: boolean; refill: boolean }>(project, ['seed', '-o', `${name}_3`], { DBFAST_POOL_SIZE: '0' });
    expect(plain).toMatchObject({ fromPool: false, refill: false });
    const human = await runCli(['pool', 'status'], { cwd: project.dir, env });
    expect(human.stdout).toContain(`local: 0 ready of 1 (${project.template()})`);
  });

  it('[environments.NAME.pool] size and --size decide how many fill makes; status and drain take --env', async () => {
    const project = poolProject('max_clones = 200');
    project.writeConfig('[environments.local]\n\n[environments.test]\n[environments.test.pool]\nsize = 2\n\n[pool]\nmax_clones = 200\n');
    const test = await cli<{ ready: number; created: string[] }>(project, ['pool', 'fill', '--env', 'test']);
    expect(test).toMatchObject({ ready: 2 });
    const local = await cli<{ ready: number }>(project, ['pool', 'fill', '--env', 'local', '--size', '3']);
    expect(local.ready).toBe(3);
    const status = await cli<StatusJson>(project, ['pool', 'status']);
    expect(status.environments.map(({ environment, size, ready }) => ({ environment, size, ready }))).toEqual([
      { environment: 'local', size: 1, ready: 3 },
      { environment: 'test', size: 2, ready: 2 },
    ]);
    const drained = await cli<{ dropped: unknown[] }>(project, ['pool', 'drain', '--env', 'test']);
    expect(drained.dropped).toHaveLength(2);
    expect((await cli<StatusJson>(project, ['pool', 'status', '--env', 'local'])).environments).toEqual([
      { environment: 'local', template: project.template('local'), size: 1, ready: 3, stale: 0 },
    ]);
    const bad = await runCli(['pool', 'fill', '--size', 'many'], { cwd: project.dir, env });
    expect(bad.exitCode).toBe(2);
    await cli(project, ['pool', 'drain']);
  });
  it('seed --force takes from the pool too: the old clone goes only once the new one is this project\'s clone; list shows pooled databases as the project\'s', async () => {
    const project = poolProject('max_clones = 200\nsize = 1');
    const name = `${project.templateName}_c_forced`;
    const noRefill = { DBFAST_POOL_SIZE: '0' };
    expect(await cli<{ fromPool: boolean }>(project, ['seed', '-o', name], noRefill)).toMatchObject({ fromPool: false });
    const oidOf = async (database: string): Promise<number | undefined> =>
      (await query<{ oid: number }>(server, 'SELECT oid::int AS oid FROM pg_database WHERE datname = $1', [database]))[0]?.oid;
    const before = await oidOf(name);
    const fill = await cli<{ created: string[] }>(project, ['pool', 'fill']);
    const ready = fill.created[0] as string;
    const listed = await cli<{ databases: Array<{ name: string; kind: string; project: boolean; owner: { path: string } | null }> }>(project, ['list']);
    // The pool's marker records the project (local/owner.ts), so list counts it as this project's.
    expect(listed.databases.find((database) => database.name === ready)).toMatchObject({ kind: 'pool', project: true, owner: { path: expect.any(String) } });
    const seeded = await cli<{ fromPool: boolean }>(project, ['seed', '--force', '-o', name], noRefill);
    expect(seeded.fromPool).toBe(true);
    const after = await oidOf(name);
    // The ready database itself became the clone (renamed, not copied), and the old clone is gone.
    expect(after).not.toBe(before);
    expect(await oidOf(ready)).toBeUndefined();
    expect(await itemNames(server, name)).toEqual(['kettle', 'teapot']);
    const comment = (await query<{ comment: string }>(server, "SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1", [name]))[0]?.comment ?? '';
    expect(comment.startsWith('dbfast:clone:v1 ')).toBe(true);
    expect(JSON.parse(comment.slice('dbfast:clone:v1 '.length))).toMatchObject({ template: project.template(), owner: { path: expect.any(String) } });
    // No side database is left behind (the seed's clone name was renamed away).
    const again = await cli<{ databases: Array<{ name: string; kind: string }> }>(project, ['list']);
    expect(again.databases.filter((database) => database.kind === 'leftover')).toEqual([]);
    expect(again.databases.find((database) => database.name === name)?.kind).toBe('clone');
    await cli(project, ['pool', 'drain']);
  });
});
