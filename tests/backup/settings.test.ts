import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query, remote } from '../support/db.js';
import { asAccount, cli, cliJson, createRemoteAccount, seedShop, writeProject, type Project, type RemoteAccount } from '../support/backup.js';

interface Created {
  backup: { id: string; file: string };
}
interface Restored {
  restore: { id: string; database: string; mode: string; previous: string | null };
}

/** The database's own settings as `role|name=value` (role empty for ALTER DATABASE ... SET), sorted. */
async function storedSettings(a: RemoteAccount): Promise<string[]> {
  const rows = await query<{ entry: string }>(
    a.adminDbUrl,
    `SELECT coalesce(r.rolname, '') || '|' || e.entry AS entry FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) AS e(entry)
      WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return rows.map((row) => row.entry).sort();
}

/** What a new session of the account sees, as PostgREST's would. */
async function seenBySession(a: RemoteAccount): Promise<Record<string, unknown>> {
  const [row] = await asAccount(
    a,
    "SELECT current_setting('request.jwt.claim.id', true) AS claim, current_setting('search_path') AS path, current_setting('statement_timeout') AS timeout, current_setting('app.added_later', true) AS added",
  );
  return row ?? {};
}

async function accountWithSettings(createdb: boolean): Promise<{ a: RemoteAccount; p: Project }> {
  const a = await createRemoteAccount({ createdb, prefix: createdb ? 'bkset' : 'bksetip' });
  await seedShop(a, 10);
  // PostgreSQL 15: a database owner may set a custom parameter only with SET granted on it.
  await query(remote.adminUrl, `GRANT SET ON PARAMETER request.jwt.claim.id, app.added_later TO "${a.role}"`);
  await asAccount(
    a,
    `ALTER DATABASE "${a.database}" SET request.jwt.claim.id = '-1';
     ALTER DATABASE "${a.database}" SET search_path = shop, public;
     ALTER ROLE "${a.role}" IN DATABASE "${a.database}" SET statement_timeout = '3s';`,
  );
  return { a, p: writeProject([{ name: 'target', account: a }]) };
}

/** After the backup: the settings changed, one removed, one added. */
async function changeSettings(a: RemoteAccount): Promise<void> {
  await asAccount(
    a,
    `ALTER DATABASE "${a.database}" SET request.jwt.claim.id = '5';
     ALTER DATABASE "${a.database}" RESET search_path;
     ALTER DATABASE "${a.database}" SET app.added_later = 'x';
     ALTER ROLE "${a.role}" IN DATABASE "${a.database}" RESET statement_timeout;`,
  );
}

const ORIGINAL = { claim: '-1', path: 'shop, public', timeout: '3s', added: null };

describe("backup create records the database's own settings; backup restore gives them back", () => {
  it('swap: the restored database has exactly the settings it had when backed up, also when the live one was dropped', async () => {
    const { a, p } = await accountWithSettings(true);
    const stored = await storedSettings(a);
    expect(await seenBySession(a)).toEqual(ORIGINAL);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    const metadata = JSON.parse(readFileSync(path.join(p.backupDir, 'target', `${backup.id}.json`), 'utf8')) as { settings: unknown };
    expect(metadata.settings).toEqual([
      { role: null, name: 'request.jwt.claim.id', value: '-1' },
      { role: null, name: 'search_path', value: 'shop, public' },
      { role: a.role, name: 'statement_timeout', value: '3s' },
    ]);
    await changeSettings(a);
    expect(await seenBySession(a)).not.toEqual(ORIGINAL);
    const { restore } = await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(restore.mode).toBe('swap');
    expect(await storedSettings(a)).toEqual(stored);
    expect(await seenBySession(a)).toEqual(ORIGINAL);
    // Disaster: the database is gone; the restore makes it anew, settings included.
    await query(remote.adminUrl, `DROP DATABASE "${a.database}" WITH (FORCE)`);
    await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(await storedSettings(a)).toEqual(stored);
    expect(await seenBySession(a)).toEqual(ORIGINAL);
  });

  it('in place (no CREATEDB): the same, inside the restore\'s transaction; a setting the role may not make stops it before any change', async () => {
    const { a, p } = await accountWithSettings(false);
    const stored = await storedSettings(a);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    await changeSettings(a);
    // Without SET on the parameter the role cannot put request.jwt.claim.id back: refused, nothing changed.
    await query(remote.adminUrl, `REVOKE SET ON PARAMETER request.jwt.claim.id FROM "${a.role}"`);
    const changed = await storedSettings(a);
    await asAccount(a, 'CREATE TABLE shop.added_later (x int)');
    const refused = await cli(p, ['--json', 'backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(1);
    const error = parseJson<{ error: { code: string; message: string; hint: string } }>(refused).error;
    expect(error).toMatchObject({ code: 'SETTING_NOT_APPLIED' });
    expect(error.message).toContain('request.jwt.claim.id = -1');
    expect(error.hint).toContain(`GRANT SET ON PARAMETER "request.jwt.claim.id" TO "${a.role}"`);
    expect(await storedSettings(a)).toEqual(changed);
    expect(await asAccount(a, "SELECT to_regclass('shop.added_later') IS NOT NULL AS kept")).toEqual([{ kept: true }]);
    await query(remote.adminUrl, `GRANT SET ON PARAMETER request.jwt.claim.id TO "${a.role}"`);
    const { restore } = await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(restore.mode).toBe('in-place');
    expect(await storedSettings(a)).toEqual(stored);
    expect(await seenBySession(a)).toEqual(ORIGINAL);
    expect(await asAccount(a, "SELECT to_regclass('shop.added_later') IS NULL AS gone")).toEqual([{ gone: true }]);
  });
});
