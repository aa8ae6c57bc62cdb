import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query, remote } from '../support/db.js';
import { asAccount, cli, cliJson, createRemoteAccount, seedShop, writeProject, type Project } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';
import { startCli, type RunningCli } from '../support/interrupt.js';

interface HistoryJson {
  deploys: Array<{ deployId: string; kind: string; result: string; error: string | null }>;
}

async function oidOf(client: pg.Client, name: string): Promise<number | null> {
  const rows = await client.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database WHERE datname = $1', [name]);
  return rows.rows[0]?.oid ?? null;
}

/**
 * Kills the whole process group (SIGKILL) the moment the live name points at another database:
 * the swap has committed, and nothing after it ran for long. Polls back to back (no sleep).
 */
async function killOnceSwapped(running: RunningCli, database: string): Promise<{ before: number; after: number }> {
  const client = new pg.Client({ connectionString: remote.adminUrl });
  await client.connect();
  try {
    const before = await oidOf(client, database);
    if (before === null) throw new Error(`no database ${database}`);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const now = await oidOf(client, database);
      if (now !== null && now !== before) {
        process.kill(-(running.child.pid as number), 'SIGKILL');
        await running.exited;
        return { before, after: now };
      }
      if (running.child.exitCode !== null) throw new Error(`dbfast exited before the swap:\n${running.stderr()}`);
      if (Date.now() > deadline) throw new Error(`the swap never committed:\n${running.stderr()}`);
    }
  } finally {
    await client.end();
  }
}

/** The run's record, in the remote's history and in this machine's: the same, and `running`. */
async function recordsOf(project: Project, kind: string): Promise<Array<HistoryJson['deploys'][number]>> {
  const found = [];
  for (const where of [[], ['--local']]) {
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging', ...where]));
    found.push(history.deploys.find((d) => d.kind === kind && d.result !== 'success') ?? { deployId: '', kind: 'none', result: `no ${kind} record (${where.join(' ') || 'remote'})`, error: null });
  }
  return found;
}

describe('a run killed (SIGKILL) right after its swap committed still leaves its record (remote and local)', () => {
  it('deploy: `running`, saying the swap was under way and how to tell it committed; the new database is live, the old one kept', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'kswd' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const project = writeDeployProject([{ name: 'staging', account, backup: false }]);
    // A first deploy: the second one then has an older previous copy to drop after its swap.
    expect((await cli(project, ['deploy', '--remote', 'staging'])).exitCode).toBe(0);
    const running = startCli(project, ['deploy', '--remote', 'staging']);
    const { after } = await killOnceSwapped(running, account.database);
    const previous = `${account.database}__dbfast_prev`;
    for (const record of await recordsOf(project, 'deploy')) {
      expect(record).toMatchObject({ kind: 'deploy', result: 'running' });
      expect(record.error).toMatch(new RegExp(`swap.*oid ${after}.*new database is live as "${account.database}".*kept as "${previous}".*dbfast rollback.*killed`, 's'));
    }
    expect((await query<{ n: number }>(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]?.n).toBe(3);
  });

  it('backup restore: `running`, saying the swap was under way and how to tell it committed', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'kswr' });
    await seedShop(account, 30);
    const project = writeProject([{ name: 'staging', account }]);
    const created = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
    await asAccount(account, 'DELETE FROM shop.purchase');
    const running = startCli(project, ['backup', 'restore', '--remote', 'staging', '--backup-id', created.backup.id, '--confirm']);
    const { after } = await killOnceSwapped(running, account.database);
    for (const record of await recordsOf(project, 'restore')) {
      expect(record).toMatchObject({ kind: 'restore', result: 'running' });
      expect(record.error).toMatch(new RegExp(`swap.*oid ${after}.*new database is live as "${account.database}" \\(backup ${created.backup.id}\\).*__dbfast_prev.*killed`, 's'));
    }
    expect((await query<{ n: number }>(account.adminDbUrl, 'SELECT count(*)::int AS n FROM shop.purchase'))[0]?.n).toBeGreaterThan(0);
  });

  it('rollback: `running`, saying the exchange was under way and how to tell it committed', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'kswb' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const project = writeDeployProject([{ name: 'staging', account, backup: false }]);
    expect((await cli(project, ['deploy', '--remote', 'staging'])).exitCode).toBe(0);
    const running = startCli(project, ['rollback', '--remote', 'staging']);
    const { after } = await killOnceSwapped(running, account.database);
    for (const record of await recordsOf(project, 'rollback')) {
      expect(record).toMatchObject({ kind: 'rollback', result: 'running' });
      expect(record.error).toMatch(new RegExp(`exchange.*oid ${after}.*previous database is live as "${account.database}".*killed`, 's'));
    }
    expect(await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM keep_me')).toEqual([{ n: 1 }]);
  });
});
