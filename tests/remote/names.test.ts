import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { databasesLike, query, remote, urlFor } from '../support/db.js';
import { cli, createRemoteAccount, trackRemoteDatabase, type RemoteAccount } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';

/** The account, pointed at a database of exactly `bytes` bytes that it owns. */
async function accountWithNameOf(bytes: number, prefix: string): Promise<RemoteAccount> {
  const account = await createRemoteAccount({ createdb: true, prefix });
  const name = `${account.database}_${'x'.repeat(bytes)}`.slice(0, bytes);
  await query(remote.adminUrl, `CREATE DATABASE "${name}" OWNER "${account.role}"`);
  await query(urlFor(remote.adminUrl, name), `CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1), (2); ALTER TABLE keep_me OWNER TO "${account.role}"`);
  for (const suffix of ['', '__dbfast_new', '__dbfast_prev', '__dbfast_restore']) trackRemoteDatabase(`${name}${suffix}`);
  const url = new URL(account.url);
  url.pathname = `/${name}`;
  return { ...account, database: name, url: url.toString(), adminDbUrl: urlFor(remote.adminUrl, name) };
}

describe('database names: what deploy accepts, rollback and restore can handle (issue 9.8)', () => {
  it('a 47-byte name deploys, rolls back, and restores its backup', async () => {
    const account = await accountWithNameOf(47, 'nm47');
    const project = writeDeployProject([{ name: 'staging', account }]);
    const deployed = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    const { backupId } = parseJson<{ backupId: string }>(deployed);

    const back = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
    expect(back.exitCode, back.stdout + back.stderr).toBe(0);
    expect(await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM keep_me')).toEqual([{ n: 2 }]);

    const restored = await cli(project, ['--json', 'backup', 'restore', '--remote', 'staging', '--backup-id', backupId]);
    expect(restored.exitCode, restored.stdout + restored.stderr).toBe(0);
    const toBackup = await cli(project, ['--json', 'rollback', '--remote', 'staging', '--to', backupId]);
    expect(toBackup.exitCode, toBackup.stdout + toBackup.stderr).toBe(0);
    expect(await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM keep_me')).toEqual([{ n: 2 }]);
  });

  it('a 48-byte name is refused before anything is touched (when dbfast.toml is loaded), naming the key, the limit and the suffixes', async () => {
    const account = await accountWithNameOf(48, 'nm48');
    const project = writeDeployProject([{ name: 'staging', account }]);
    for (const args of [
      ['deploy', '--remote', 'staging'],
      ['deploy', '--remote', 'staging', '--dry-run'],
      ['backup', 'restore', '--remote', 'staging', '--backup-id', '20200101T000000Z-0000'],
      ['rollback', '--remote', 'staging'],
    ]) {
      const result = await cli(project, ['--json', ...args]);
      expect(result.exitCode, `${args.join(' ')}: ${result.stdout}`).toBe(2);
      const error = parseJson<{ error: { code: string; message: string; hint: string } }>(result).error;
      // The loader applies deploy's own rule (pg/swap-names.ts) to every remote: a remote no deploy
      // could use stops every command at load; deploy's NAME_TOO_LONG stays for configs built in code.
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain('remotes.staging.url: database name');
      expect(error.message).toContain('is 48 bytes, more than the 47');
      expect(error.message).toContain('63 bytes');
      expect(error.message).toContain('__dbfast_restore');
    }
    expect(await databasesLike(remote, `${account.database}__`)).toEqual([]);
    expect(await query(account.adminDbUrl, "SELECT 1 FROM pg_namespace WHERE nspname = 'dbfast'")).toEqual([]);
  });
});
