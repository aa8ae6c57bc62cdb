import { describe, expect, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { decodeManifest } from '../../src/local/manifest.js';
import { seed } from '../../src/local/seed.js';
import { parseJson, runCli } from '../support/cli.js';
import { isTemplate, makeProject, projectDatabases } from '../support/project.js';
import { databaseExists, holdDatabaseLock, startCli, unfinished, waitForBlocked, waitUntil } from './support.js';

const FILES = {
  '0_schema/010_tables.sql': 'CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL);\n',
  '1_seed/010_items.sql': "INSERT INTO item VALUES (1, 'kettle');\n",
  '2_test/010_items.sql': "INSERT INTO item VALUES (2, 'teapot');\n",
};
const env = { DBFAST_CONFIG: undefined, DATABASE_URL: undefined, DBFAST_DATABASE_URL: undefined, DBFAST_BACKGROUND: undefined };

describe('layered templates on the command line (issue 14)', () => {
  it('drops the replaced template in the background, after answering; killed right after the swap, any later command drops it', async () => {
    const project = makeProject({ files: FILES });
    const first = await buildTemplate({ config: project.config(), background: 'wait' });
    // The normal case: the command answers, a detached worker drops the old template.
    const forced = await runCli(['--json', 'build', '--force'], { cwd: project.dir, env });
    expect(forced.exitCode, forced.stderr).toBe(0);
    await waitUntil('the worker to drop the replaced template', async () => unfinished(await projectDatabases(project)).length === 0);

    // Now kill it between the swap and anything after: hold the swap at its rename, stop the
    // process, let the server commit the swap, then SIGKILL.
    project.write('2_test/010_items.sql', "INSERT INTO item VALUES (2, 'teapot'), (3, 'mug');\n");
    const lock = await holdDatabaseLock(project.template());
    const run = startCli(['build'], project.dir, env);
    const pid = run.child.pid as number;
    try {
      // The swap is one message (freeze, manifest, renames); pg_stat_activity shows its first kilobyte.
      await waitForBlocked('SET LOCAL synchronous_commit', `ALTER DATABASE "${project.template()}__dbfast_build_`);
      process.kill(-pid, 'SIGSTOP');
    } finally {
      await lock.release();
    }
    const swapped = async (): Promise<boolean> => decodeManifest((await isTemplate(project.template()))?.comment)?.files['2_test/010_items.sql'] !== first.manifest.files['2_test/010_items.sql'];
    await waitUntil('the swap to commit', swapped);
    process.kill(-pid, 'SIGKILL');
    await run.exited;
    const [old] = (await projectDatabases(project)).filter((name) => name.startsWith(`${project.template()}__dbfast_old_`));
    expect(old, 'the replaced template, left by the killed build').toMatch(/__dbfast_old_[0-9a-f]{8}$/);
    const listed = await runCli(['list'], { cwd: project.dir, env });
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`${old}\\s+leftover`));
    await waitUntil('the worker started by `list` to drop it', async () => !(await databaseExists(old as string)));
    await waitUntil('every worker to finish', async () => unfinished(await projectDatabases(project)).length === 0);
  });

  it('build --json and status report each layer; list shows layer templates under their environment', async () => {
    const project = makeProject({ files: FILES });
    await buildTemplate({ config: project.config(), background: 'wait' });
    project.write('1_seed/010_items.sql', "INSERT INTO item VALUES (1, 'kettle'), (4, 'cup');\n");
    const build = await runCli(['--json', 'build'], { cwd: project.dir, env: { ...env, DBFAST_BACKGROUND: 'wait' } });
    expect(build.exitCode, build.stderr).toBe(0);
    const json = parseJson<{ layers: Array<{ label: string; state: string; files: number; durationMs: number; template: string; templateLater: boolean }> }>(build);
    expect(json.layers.map((layer) => [layer.label, layer.state, layer.files, layer.templateLater])).toEqual([
      ['0_schema', 'rebuilt', 1, true],
      ['1_seed', 'rebuilt', 1, true],
      ['2_test', 'rebuilt', 1, false],
    ]);
    for (const layer of json.layers) expect(layer.durationMs).toBeGreaterThanOrEqual(0);
    // With `wait` the layer templates exist now; an edit of the last layer runs only that layer.
    project.write('2_test/010_items.sql', "INSERT INTO item VALUES (2, 'teapot'), (5, 'jug');\n");
    const human = await runCli(['build'], { cwd: project.dir, env: { ...env, DBFAST_BACKGROUND: 'wait' } });
    expect(human.stderr + human.stdout).toMatch(/0_schema\s+reused/);
    expect(human.stderr + human.stdout).toMatch(/2_test\s+rebuilt\s+1 file in/);
    const statusText = await runCli(['status'], { cwd: project.dir, env });
    expect(statusText.stdout).toMatch(/layers:\n\s+0_schema\s+fresh/);
    const list = await runCli(['list'], { cwd: project.dir, env });
    const lines = list.stdout.split('\n');
    const templateLine = lines.findIndex((line) => line.startsWith(`${project.template()} `));
    expect(templateLine).toBeGreaterThan(0);
    expect(lines[templateLine + 1]).toMatch(new RegExp(`^  ${project.templateName}__[0-9a-f]{12}\\s+layer\\s+local`));
  });

  it('drop --all-clones never drops a layer template; drop --templates does, only when confirmed', async () => {
    const project = makeProject({ files: FILES });
    await buildTemplate({ config: project.config(), background: 'wait' });
    await buildTemplate({ config: project.config(), force: true, background: 'wait' });
    const clone = `${project.templateName}_c_keep`;
    await seed({ config: project.config(), output: clone, background: 'wait' });
    const before = (await projectDatabases(project)).filter((name) => name !== clone);
    expect(before.some((name) => /__[0-9a-f]{12}$/.test(name))).toBe(true);
    expect(before.some((name) => /__dbfast_spare_/.test(name))).toBe(true);
    const clones = await runCli(['--json', 'drop', '--all-clones'], { cwd: project.dir, env });
    expect(parseJson<{ dropped: Array<{ name: string }> }>(clones).dropped.map((entry) => entry.name)).toEqual([clone]);
    expect((await projectDatabases(project)).sort()).toEqual([...before].sort());
    await seed({ config: project.config(), output: clone, background: 'wait' });
    const unconfirmed = await runCli(['--json', 'drop', '--templates'], { cwd: project.dir, env });
    expect(unconfirmed.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string } }>(unconfirmed).error.code).toBe('CONFIRMATION_REQUIRED');
    expect((await projectDatabases(project)).length).toBe(before.length + 1);
    const confirmed = await runCli(['--json', 'drop', '--templates', '--yes'], { cwd: project.dir, env });
    expect(confirmed.exitCode, confirmed.stderr).toBe(0);
    expect(parseJson<{ dropped: Array<{ kind: string }> }>(confirmed).dropped.map((entry) => entry.kind).sort()).toEqual(expect.arrayContaining(['layer', 'spare', 'template']));
    expect(await projectDatabases(project)).toEqual([clone]);
  });
});
