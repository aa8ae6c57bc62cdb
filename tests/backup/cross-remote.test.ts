import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query } from '../support/db.js';
import { asAccount, cli, cliJson, createRemoteAccount, seedShop, tableCounts, writeProject } from '../support/backup.js';

interface Restored {
  restore: { id: string; database: string; remote: string; fromRemote: string; mode: string };
}

describe('backup restore across remotes, latest, statistics (issue 17.4)', () => {
  it('restores production\'s backup into staging with --from-remote, names both, analyzes before the swap', async () => {
    const prod = await createRemoteAccount({ createdb: true, prefix: 'xprod' });
    const staging = await createRemoteAccount({ createdb: true, prefix: 'xstag' });
    await seedShop(prod, 40);
    await asAccount(prod, 'CREATE MATERIALIZED VIEW shop.big_spenders AS SELECT customer_id, sum(amount) AS total FROM shop.purchase GROUP BY customer_id');
    await asAccount(staging, 'CREATE TABLE only_in_staging (x int)');
    const project = writeProject([
      { name: 'production', account: prod, environment: 'production' },
      { name: 'staging', account: staging, noOwner: true },
    ]);
    const older = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'production']);
    await asAccount(prod, 'DELETE FROM shop.purchase WHERE id > 100');
    const newest = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'production']);
    expect(newest.backup.id > older.backup.id).toBe(true);

    const human = await cli(project, ['backup', 'restore', '--remote', 'staging', '--from-remote', 'production', '--backup-id', 'latest']);
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stderr).toContain(`restoring backup ${newest.backup.id} of remote "production" (database "${prod.database}") into remote "staging" (database "${staging.database}")`);
    expect(await tableCounts(staging.adminDbUrl)).toEqual(await tableCounts(prod.adminDbUrl));
    expect(await query(staging.adminDbUrl, "SELECT to_regclass('public.only_in_staging') AS t")).toEqual([{ t: null }]);
    // Statistics exist before anyone queries the restored database, materialized views included.
    const analyzed = await query<{ relname: string; analyzed: boolean }>(
      staging.adminDbUrl,
      `SELECT relname, last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE schemaname = 'shop' ORDER BY relname`,
    );
    expect(analyzed).toEqual([
      { relname: 'big_spenders', analyzed: true },
      { relname: 'customer', analyzed: true },
      { relname: 'purchase', analyzed: true },
    ]);
    expect(await query(staging.adminDbUrl, 'SELECT count(*)::int AS n FROM shop.big_spenders')).toEqual([{ n: 40 }]);

    const byId = parseJson<Restored>(await cli(project, ['--json', 'backup', 'restore', '--remote', 'staging', '--from-remote', 'production', '--backup-id', older.backup.id]));
    expect(byId.restore).toMatchObject({ id: older.backup.id, remote: 'staging', fromRemote: 'production', database: staging.database, mode: 'swap' });
    const history = parseJson<{ deploys: Array<{ kind: string; backupId: string }> }>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]).toMatchObject({ kind: 'restore', backupId: older.backup.id });
  });

  it('keeps the usual guards: the target remote decides on confirmation; unknown remotes and ids are refused', async () => {
    const prod = await createRemoteAccount({ createdb: true, prefix: 'xgprod' });
    const staging = await createRemoteAccount({ createdb: true, prefix: 'xgstag' });
    await seedShop(staging, 10);
    const project = writeProject([
      { name: 'production', account: prod, environment: 'production', noOwner: true },
      { name: 'staging', account: staging, noOwner: true },
    ]);
    const fromStaging = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
    const before = await query(prod.adminDbUrl, "SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace");
    const unconfirmed = await cli(project, ['--json', 'backup', 'restore', '--remote', 'production', '--from-remote', 'staging', '--backup-id', fromStaging.backup.id]);
    expect(unconfirmed.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string } }>(unconfirmed).error.code).toBe('CONFIRMATION_REQUIRED');
    expect(await query(prod.adminDbUrl, "SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace")).toEqual(before);
    const unknownRemote = await cli(project, ['--json', 'backup', 'restore', '--remote', 'staging', '--from-remote', 'nope', '--backup-id', 'latest']);
    expect(parseJson<{ error: { code: string } }>(unknownRemote).error.code).toBe('REMOTE_UNKNOWN');
    const none = await cli(project, ['--json', 'backup', 'restore', '--remote', 'staging', '--from-remote', 'production', '--backup-id', 'latest']);
    expect(none.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string } }>(none).error.code).toBe('BACKUP_NOT_FOUND');
  });
});
