import { describe, expect, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { list, readDbfastDatabases } from '../../src/local/list.js';
import { withClient } from '../../src/pg/client.js';
import { targetFromUrl } from '../../src/pg/target.js';
import { status } from '../../src/local/status.js';
import { runCli } from '../support/cli.js';
import { local, query } from '../support/db.js';
import { makeProject, projectDatabases, type TestProject } from '../support/project.js';
import { backendGone, databaseExists, holdDatabaseLock, startCli, waitForBlocked, waitUntil } from './support.js';

const SIDE = (kind: string): RegExp => new RegExp(`__dbfast_${kind}_[0-9a-f]{8}$`);

async function sideDatabases(project: TestProject, kind: string): Promise<string[]> {
  return (await projectDatabases(project)).filter((name) => SIDE(kind).test(name));
}

/**
 * Starts `args`, waits until its CREATE DATABASE waits on `lockOn` (held by the test), sends
 * `signal`, then lets the server go on. Returns the exit and the blocked backend's pid.
 */
async function interruptCreate(project: TestProject, args: string[], lockOn: string, createPrefix: string, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; pid: number }> {
  const lock = await holdDatabaseLock(lockOn);
  let blocked: { pid: number };
  const run = startCli(['--config', project.configPath, ...args], project.dir, { DBFAST_BACKGROUND: 'wait' });
  try {
    blocked = await waitForBlocked(createPrefix);
    run.child.kill(signal);
    if (signal === 'SIGINT') await run.exited;
  } finally {
    await lock.release();
  }
  const exit = await run.exited;
  // The server finishes (or abandons) the CREATE on its own once the lock is free.
  await waitUntil('the CREATE DATABASE backend to end', () => backendGone(blocked.pid));
  return { ...exit, stderr: run.stderr(), pid: blocked.pid };
}

describe('an interrupt during CREATE DATABASE leaves nothing a later command cannot recognise and remove (issue 9.10)', () => {
  it("SIGKILL during a seed's clone: the clone has a side name, list shows it, the next command drops it", async () => {
    const project = makeProject();
    await buildTemplate({ config: project.config() });
    const output = `${project.templateName}_c_killed`;
    const killed = await interruptCreate(project, ['seed', '--output', output], project.template(), `CREATE DATABASE "${project.template()}__dbfast_clone_`, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(await databaseExists(output)).toBe(false);
    const [leftover] = await sideDatabases(project, 'clone');
    expect(leftover, 'the killed CREATE DATABASE still made its database').toBeDefined();
    // Recognised by its name alone (it never got a comment), listed, and droppable.
    // Read as `list` reads it, without noticing it (which would hand it to a worker already).
    const listed = (await withClient(targetFromUrl(local.adminUrl), (client) => readDbfastDatabases(client, project.config()))).find((database) => database.name === leftover);
    expect(listed).toMatchObject({ kind: 'leftover', template: project.template(), project: true, inUse: false });
    // Any later command hands it to the background worker (detached here, as users get it).
    const next = await runCli(['--config', project.configPath, 'status'], { cwd: project.dir, env: { DBFAST_BACKGROUND: undefined } });
    expect(next.exitCode, next.stderr).toBe(0);
    await waitUntil('the detached worker to drop the leftover', async () => !(await databaseExists(leftover as string)));
    expect(await projectDatabases(project)).toEqual([project.template()]);
  });

  it("Ctrl-C during a seed's clone: exits 130 and nothing is left", async () => {
    const project = makeProject();
    await buildTemplate({ config: project.config() });
    const output = `${project.templateName}_c_int`;
    const interrupted = await interruptCreate(project, ['seed', '--output', output], project.template(), `CREATE DATABASE "${project.template()}__dbfast_clone_`, 'SIGINT');
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(await projectDatabases(project)).toEqual([project.template()]);
  });

  it("SIGKILL during CREATE DATABASE of a build's side database: the next command drops it", async () => {
    const project = makeProject();
    const killed = await interruptCreate(project, ['build'], 'template0', `CREATE DATABASE "${project.template()}__dbfast_build_`, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    const [leftover] = await sideDatabases(project, 'build');
    expect(leftover).toBeDefined();
    expect((await status({ config: project.config(), background: 'wait' })).environments[0]?.state).toBe('missing');
    await buildTemplate({ config: project.config(), background: 'wait' });
    expect(await projectDatabases(project)).toEqual([project.template()]);
  });

  it("Ctrl-C during CREATE DATABASE of a build's side database: exits 130 and nothing is left", async () => {
    const project = makeProject();
    const interrupted = await interruptCreate(project, ['build'], 'template0', `CREATE DATABASE "${project.template()}__dbfast_build_`, 'SIGINT');
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(await projectDatabases(project)).toEqual([]);
  });

  it('never drops a database that only looks like a side database, nor one another project left', async () => {
    const project = makeProject();
    const other = makeProject();
    const lookalike = `${project.template()}__dbfast_build_cafebabe`;
    await query(local.adminUrl, `CREATE DATABASE "${lookalike}"`);
    // A leftover of another project (killed during its clone): that project reaps it, not this one.
    await buildTemplate({ config: other.config() });
    await interruptCreate(other, ['seed', '--output', `${other.templateName}_c_x`], other.template(), `CREATE DATABASE "${other.template()}__dbfast_clone_`, 'SIGKILL');
    const [theirs] = await sideDatabases(other, 'clone');
    expect(theirs).toBeDefined();
    await buildTemplate({ config: project.config(), background: 'wait' });
    expect(await databaseExists(lookalike)).toBe(true);
    expect(await databaseExists(theirs as string)).toBe(true);
    expect((await list({ config: project.config() })).databases.map((database) => database.name)).not.toContain(lookalike);
    await buildTemplate({ config: other.config(), background: 'wait' });
    expect(await databaseExists(theirs as string)).toBe(false);
  });
});
