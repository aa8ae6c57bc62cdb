import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query, remote, urlFor } from '../support/db.js';
import { asAccount, cli, createRemoteAccount } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';
import { remoteDatabaseExists, renameWaitsForLock, startCli, waitUntil } from '../support/interrupt.js';

const sessions: pg.Client[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.end().catch(() => undefined);
});

/** A superuser session the deploying role may not end. */
async function superuserSession(database: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: urlFor(remote.adminUrl, database) });
  client.on('error', () => undefined);
  await client.connect();
  sessions.push(client);
  return client;
}

async function keepMe(database: string): Promise<number | null> {
  const rows = await query<{ n: number }>(urlFor(remote.adminUrl, database), 'SELECT count(*)::int AS n FROM keep_me').catch(() => []);
  return rows[0]?.n ?? null;
}

/**
 * A remote that has been deployed to once: the live database is the template, and
 * `<db>__dbfast_prev` holds the original database (table keep_me, 5 rows).
 */
async function deployedOnce(prefix: string) {
  const account = await createRemoteAccount({ createdb: true, prefix });
  await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me SELECT generate_series(1, 5)');
  const project = writeDeployProject([{ name: 'staging', account, backup: false }]);
  const first = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
  expect(first.exitCode, first.stdout + first.stderr).toBe(0);
  const previous = `${account.database}__dbfast_prev`;
  expect(await keepMe(previous)).toBe(5);
  return { account, project, previous };
}

describe('the previous database is replaced only once the new one is live (issue 9.4)', () => {
  it('a session dbfast may not end on the live database: the deploy fails and __dbfast_prev is still the rollback target', async () => {
    const { account, project, previous } = await deployedOnce('swsess');
    await superuserSession(account.database);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stdout).toBe(1);
    expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('SESSIONS_BLOCKING');
    expect(await keepMe(previous)).toBe(5);
    expect(await remoteDatabaseExists(`${account.database}__dbfast_new`)).toBe(false);
    await Promise.all(sessions.splice(0).map((s) => s.end()));
    const back = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
    expect(back.exitCode, back.stdout + back.stderr).toBe(0);
    expect(await keepMe(account.database)).toBe(5);
  });

  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    it(`${signal} while the swap waits for its lock: nothing renamed, nothing dropped`, async () => {
      const { account, project, previous } = await deployedOnce(signal === 'SIGKILL' ? 'swkill' : 'swint');
      // Holds a lock on the live database's catalog entry: the rename inside the swap waits for it.
      const holder = await superuserSession('postgres');
      await holder.query('BEGIN');
      await holder.query(`COMMENT ON DATABASE "${account.database}" IS 'held by the test'`);
      const running = startCli(project, ['deploy', '--remote', 'staging']);
      await waitUntil('the swap waits for the lock', () => renameWaitsForLock(account.database), { running, timeoutMs: 120_000 });
      process.kill(running.child.pid as number, signal);
      const exit = await running.exited;
      if (signal === 'SIGINT') expect(exit.code, running.stderr()).toBe(130);
      else expect(exit.signal).toBe('SIGKILL');
      await holder.query('ROLLBACK');
      expect(await keepMe(previous)).toBe(5);
      // The live database is still the first deploy's (the template), under its own name.
      expect((await query<{ n: number }>(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]?.n).toBe(3);
      const back = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
      expect(back.exitCode, back.stdout + back.stderr).toBe(0);
      expect(await keepMe(account.database)).toBe(5);
    });
  }
});
