import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { DbfastErrorJson } from '../../src/errors.js';
import { parseJson, runCli, type CliResult } from '../support/cli.js';
import { local, query, uniqueName } from '../support/db.js';
import { makeProject, SCHEMA_SQL, type TestProject } from '../support/project.js';

/*
 * A failure on the local server (the managed one, or one of your own) must not send the user to
 * `dbfast remote test NAME`: the local server is not a remote. Its hints name what checks the
 * local server (`dbfast server status`, `dbfast doctor`) and what lists its databases (`dbfast
 * list`). Each case is a real failure of a real command: `dbfast drop TEMPLATE` waits for the
 * template's build lock, which this test holds, and meanwhile its session is ended, or the
 * template is dropped under it.
 */

const holders: pg.Client[] = [];

afterEach(async () => {
  for (const client of holders.splice(0)) await client.end().catch(() => undefined);
});

/** A built template, and a session of ours holding its build lock (as a running build would). */
async function builtTemplateLocked(): Promise<{ project: TestProject; template: string; holder: pg.Client }> {
  const project = makeProject({ files: { '0_schema/010_item.sql': SCHEMA_SQL } });
  const built = await runCli(['build'], { cwd: project.dir });
  expect(built.exitCode, built.stdout + built.stderr).toBe(0);
  const template = project.template();
  const holder = new pg.Client({ connectionString: local.adminUrl });
  await holder.connect();
  holders.push(holder);
  await holder.query("SELECT pg_advisory_lock(hashtextextended('dbfast:build:' || $1, 0))", [template]);
  return { project, template, holder };
}

/** Starts `dbfast --json drop TEMPLATE` and resolves with its server process id once it is waiting for the lock. */
async function dropWaiting(project: TestProject, template: string): Promise<{ pid: number; done: Promise<CliResult> }> {
  const appName = uniqueName('hint');
  const done = runCli(['--json', 'drop', template], { cwd: project.dir, env: { PGAPPNAME: appName } });
  for (let i = 0; i < 300; i++) {
    const rows = await query<{ pid: number }>(local.adminUrl, "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_try_advisory_lock%'", [appName]);
    if (rows[0]) return { pid: rows[0].pid, done };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`dbfast drop never waited for the build lock:\n${JSON.stringify(await done)}`);
}

function errorOf(result: CliResult): DbfastErrorJson {
  expect(result.exitCode, result.stdout + result.stderr).not.toBe(0);
  return parseJson<{ error: DbfastErrorJson }>(result).error;
}

describe('hints about the local server name local commands, never `remote test`', { timeout: 120_000 }, () => {
  it('its session ended while it worked: CONNECTION_LOST says to check the local server (`dbfast server status`, `dbfast doctor`)', async () => {
    const { project, template } = await builtTemplateLocked();
    const { pid, done } = await dropWaiting(project, template);
    await query(local.adminUrl, 'SELECT pg_terminate_backend($1)', [pid]);
    const error = errorOf(await done);
    expect(error.code, error.message).toBe('CONNECTION_LOST');
    expect(error.hint).not.toContain('remote test');
    expect(error.hint).toContain('`dbfast server status`');
    expect(error.hint).toContain('`dbfast doctor`');
  });

  it('its database dropped meanwhile: DATABASE_NOT_FOUND says to look at the local databases (`dbfast list`)', async () => {
    const { project, template, holder } = await builtTemplateLocked();
    const { done } = await dropWaiting(project, template);
    await query(local.adminUrl, `ALTER DATABASE "${template}" IS_TEMPLATE false`);
    await query(local.adminUrl, `DROP DATABASE "${template}"`);
    await holder.query("SELECT pg_advisory_unlock(hashtextextended('dbfast:build:' || $1, 0))", [template]);
    const error = errorOf(await done);
    expect(error.code, error.message).toBe('DATABASE_NOT_FOUND');
    expect(error.message).toContain(template);
    expect(error.hint).not.toContain('remote test');
    expect(error.hint).toContain('`dbfast list`');
  });
});
