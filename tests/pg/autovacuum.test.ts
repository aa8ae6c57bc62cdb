import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, remote } from '../support/db.js';
import { asAccount, cli, createRemoteAccount } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';
import { waitUntil } from '../support/interrupt.js';

// Autovacuum visits each database once per naptime; a second makes the worker show up soon.
beforeAll(async () => {
  await query(remote.adminUrl, "ALTER SYSTEM SET autovacuum_naptime = '1s'");
  await query(remote.adminUrl, 'SELECT pg_reload_conf()');
});
afterAll(async () => {
  await query(remote.adminUrl, 'ALTER SYSTEM RESET autovacuum_naptime');
  await query(remote.adminUrl, 'SELECT pg_reload_conf()');
});

async function autovacuumOn(database: string): Promise<boolean> {
  const rows = await query(remote.adminUrl, "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'autovacuum worker'", [database]);
  return rows.length > 0;
}

describe('autovacuum workers are nobody to end (issue 9.19)', () => {
  it('a deploy by a role without pg_read_all_stats swaps while autovacuum works on the live database', { timeout: 240_000 }, async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'avac' });
    // A vacuum that crawls (100 ms pause per page): the worker stays on the database for minutes.
    await asAccount(
      account,
      `CREATE TABLE crawl (id int, pad text) WITH (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0,
         autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1, autovacuum_analyze_threshold = 2000000000);
       INSERT INTO crawl SELECT g, repeat('x', 100) FROM generate_series(1, 100000) g;
       DELETE FROM crawl WHERE id % 2 = 0;`,
    );
    await waitUntil('an autovacuum worker is on the live database', () => autovacuumOn(account.database), { timeoutMs: 120_000 });
    // What the role sees of it: a session without a type (it may not read other sessions' details).
    const seen = await asAccount(account, "SELECT backend_type, usesysid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    expect(seen).toContainEqual({ backend_type: null, usesysid: null });

    const project = writeDeployProject([{ name: 'staging', account, backup: false }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect((await query<{ n: number }>(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]?.n).toBe(3);
  });
});
