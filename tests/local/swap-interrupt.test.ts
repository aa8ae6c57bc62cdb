import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { spawn } from 'node:child_process';
import { CLI, runCli } from '../support/cli.js';
import { local, query, urlFor } from '../support/db.js';
import { makeProject, projectDatabases, type TestProject } from '../support/project.js';
import { backendGone, databaseExists, holdDatabaseLock, startCli, unfinished, waitForBlocked, waitUntil } from './support.js';

// CLI tests run the built dist/ (npm test builds first; `npm run build` by hand).

/**
 * Replacing a clone (`seed --force`, watch's refresh) renames the old one aside and the new one
 * into place in one transaction: SIGINT at any moment leaves a database under the output's name
 * (the old one or the new one) and no side database.
 */

async function items(database: string): Promise<string[]> {
  return (await query<{ name: string }>(urlFor(local.adminUrl, database), 'SELECT name FROM item ORDER BY id')).map((row) => row.name);
}

/** A project with `output` seeded from it, holding one row only that copy has (to tell the old copy from a new one). */
async function seededProject(suffix: string): Promise<{ project: TestProject; output: string }> {
  const project = makeProject();
  const output = `${project.templateName}_${suffix}`;
  const seeded = await runCli(['--config', project.configPath, 'seed', '--output', output], { cwd: project.dir });
  expect(seeded.exitCode, seeded.stderr).toBe(0);
  await query(urlFor(local.adminUrl, output), "INSERT INTO item VALUES (99, 'old copy')");
  return { project, output };
}

function startSeedForce(project: TestProject, output: string): ReturnType<typeof startCli> {
  return startCli(['--config', project.configPath, 'seed', '--output', output, '--force'], project.dir, { DBFAST_BACKGROUND: 'wait' });
}

describe('seed --force interrupted while it replaces the output', () => {
  it('SIGINT while the swap waits for a lock on the output: the old copy stays under its name, no side database', async () => {
    const { project, output } = await seededProject('sw_lock');
    const lock = await holdDatabaseLock(output);
    const run = startSeedForce(project, output);
    let blocked: { pid: number };
    try {
      // Whatever statement touches the output (the swap; before the fix, the DROP of the old copy) waits for the test's lock.
      blocked = await waitForBlocked('', `"${output}"`);
      run.child.kill('SIGINT');
      expect((await run.exited).code, run.stderr()).toBe(130);
    } finally {
      await lock.release();
    }
    // A statement the server still had when the process exited runs to its end once the lock is free.
    await waitUntil('the blocked backend to end', () => backendGone(blocked.pid));
    expect(await databaseExists(output)).toBe(true);
    expect(await items(output)).toEqual(['kettle', 'teapot', 'old copy']);
    expect(unfinished(await projectDatabases(project))).toEqual([]);
  });

  it('SIGINT between the new clone and the swap (waiting for the output\'s lock): the side clone is dropped before exit 130', async () => {
    const { project, output } = await seededProject('sw_gap');
    const holder = new pg.Client({ connectionString: local.adminUrl, application_name: 'test lock holder' });
    await holder.connect();
    try {
      // The lock seeds of one output take turns on: this seed makes its clone, then waits for it.
      await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`dbfast:database:${output}`]);
      const run = startSeedForce(project, output);
      await waitUntil('the new clone under a side name', async () => (await projectDatabases(project)).some((name) => name.includes('__dbfast_clone_')));
      // Past CREATE DATABASE and its settings: polling for the lock (it stays there until the test lets go).
      await new Promise((resolve) => setTimeout(resolve, 300));
      run.child.kill('SIGINT');
      expect((await run.exited).code, run.stderr()).toBe(130);
    } finally {
      await holder.end();
    }
    expect(await items(output)).toEqual(['kettle', 'teapot', 'old copy']);
    expect(unfinished(await projectDatabases(project))).toEqual([]);
  });

  it('a session on the old copy is ended and the new copy takes the name', async () => {
    const { project, output } = await seededProject('sw_sess');
    const session = new pg.Client({ connectionString: urlFor(local.adminUrl, output), application_name: 'psql' });
    await session.connect();
    session.on('error', () => undefined);
    const seeded = await runCli(['--config', project.configPath, 'seed', '--output', output, '--force'], { cwd: project.dir });
    await session.end().catch(() => undefined);
    expect(seeded.exitCode, seeded.stderr).toBe(0);
    expect(await items(output)).toEqual(['kettle', 'teapot']);
    expect(unfinished(await projectDatabases(project))).toEqual([]);
  });
});

/** `dbfast watch --output ...` as a real process (its own process group), stdout and stderr kept. */
function startWatch(project: TestProject, outputs: string[]): ReturnType<typeof startCli> & { stdout: () => string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DBFAST_BACKGROUND: 'wait' };
  for (const key of ['DBFAST_CONFIG', 'DATABASE_URL', 'DBFAST_DATABASE_URL']) delete env[key];
  const child = spawn(process.execPath, [CLI, '--config', project.configPath, 'watch', ...outputs.flatMap((output) => ['--output', output])], { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

describe('dbfast watch interrupted at many moments of a refresh', () => {
  it('SIGINT 0 to 1100 ms after a save always leaves both outputs (old or new rows) and no side database', async () => {
    const { project, output } = await seededProject('sw_w1');
    const second = `${project.templateName}_sw_w2`;
    for (const [round, delay] of [0, 120, 250, 400, 550, 700, 900, 1100].entries()) {
      const run = startWatch(project, [output, second]);
      await waitUntil('watch to start', async () => {
        if (run.child.exitCode !== null) throw new Error(`watch exited: ${run.stderr()}`);
        return run.stdout().includes('watching');
      });
      project.write('1_seed/010_items.sql', `INSERT INTO item VALUES (1, 'round ${round}');\n`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      run.child.kill('SIGINT');
      expect((await run.exited).code, `SIGINT ${delay} ms after the save: ${run.stderr()}`).toBe(130);
      const left = await projectDatabases(project);
      expect(unfinished(left), `SIGINT ${delay} ms after the save:\n${run.stdout()}${run.stderr()}`).toEqual([]);
      expect(left, `SIGINT ${delay} ms after the save`).toContain(output);
      expect(left, `SIGINT ${delay} ms after the save`).toContain(second);
      // "watching" comes after the start's cycle, which brought both to the files of the round before.
      const before = round === 0 ? ['kettle', 'teapot', 'old copy'] : [`round ${round - 1}`];
      expect([before, [`round ${round}`]], `SIGINT ${delay} ms after the save`).toContainEqual(await items(output));
      expect([round === 0 ? ['kettle', 'teapot'] : before, [`round ${round}`]], `SIGINT ${delay} ms after the save`).toContainEqual(await items(second));
    }
  }, 240_000);
});
