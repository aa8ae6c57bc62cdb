import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query } from '../support/db.js';
import { asAccount, cli, createRemoteAccount } from '../support/backup.js';
import { snapshot, writeDeployProject } from '../support/deploy.js';

interface ErrorJson {
  error: { code: string; message: string; details: { rolledBack?: boolean } };
}

/**
 * A database the deploying role owns, but whose `dbfast` schema a superuser made (as
 * `migrate mark-applied` run by a superuser does): the role may read dbfast.migrations, not write it.
 */
async function foreignTracking(prefix: string) {
  const account = await createRemoteAccount({ createdb: false, prefix });
  await asAccount(account, 'CREATE SCHEMA app; CREATE TABLE app.legacy (id int); INSERT INTO app.legacy VALUES (1), (2)');
  await query(
    account.adminDbUrl,
    `CREATE SCHEMA dbfast;
     CREATE TABLE dbfast.migrations (id text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
       applied_by text NOT NULL, execution_ms integer, status text NOT NULL, error text, run_id text);
     INSERT INTO dbfast.migrations (id, sha256, applied_by, status) VALUES ('6_migration/000_old.sql', 'x', 'dba@host', 'baseline');
     GRANT USAGE ON SCHEMA dbfast TO PUBLIC; GRANT SELECT ON dbfast.migrations TO PUBLIC;`,
  );
  return account;
}

describe('in-place undo needs no privilege the deploy did not need (issue 9.5)', () => {
  it('a failed check after an in-place deploy restores the backup, though dbfast.migrations belongs to a superuser', async () => {
    const account = await foreignTracking('ipu');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account, validate: ["select to_regclass('app.legacy') is not null"] }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stdout).toBe(1);
    const error = parseJson<ErrorJson>(result).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.rolledBack).toBe(true);
    expect(error.message).toMatch(/Rolled back: backup \S+ was restored/);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(await query(account.adminDbUrl, 'SELECT id, status FROM dbfast.migrations')).toEqual([{ id: '6_migration/000_old.sql', status: 'baseline' }]);
  });

  it('`backup restore` in place works there too, and says that the migration records could not be updated', async () => {
    const account = await foreignTracking('ipr');
    const project = writeDeployProject([{ name: 'staging', account }]);
    const created = await cli(project, ['--json', 'backup', 'create', '--remote', 'staging']);
    expect(created.exitCode, created.stdout + created.stderr).toBe(0);
    const { backup } = parseJson<{ backup: { id: string } }>(created);
    await query(account.adminDbUrl, "INSERT INTO dbfast.migrations (id, sha256, applied_by, status) VALUES ('6_migration/001_new.sql', 'y', 'dba@host', 'success')");
    await asAccount(account, 'DELETE FROM app.legacy');
    const restored = await cli(project, ['backup', 'restore', '--remote', 'staging', '--backup-id', backup.id]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stderr).toMatch(/could not mark .*dbfast\.migrations.*permission denied/s);
    expect(await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.legacy')).toEqual([{ n: 2 }]);
  });

  it('when the undo itself fails, the deploy says so and never claims a rollback', async () => {
    const account = await createRemoteAccount({ createdb: false, prefix: 'ipn' });
    await asAccount(account, 'CREATE SCHEMA app; CREATE TABLE app.legacy (id int)');
    // No backup to go back to: the failed check cannot be undone.
    const project = writeDeployProject([{ name: 'staging', account, backup: false, validate: ['select false'] }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode).toBe(1);
    const error = parseJson<ErrorJson>(result).error;
    expect(error.details.rolledBack).toBe(false);
    expect(error.message).not.toMatch(/Rolled back/);
    expect(error.message).toMatch(/cannot be undone/);
    const history = parseJson<{ deploys: Array<{ result: string }> }>(await cli(project, ['--json', 'history', '--remote', 'staging', '--local']));
    expect(history.deploys[0]?.result).toBe('failed');
  });
});
