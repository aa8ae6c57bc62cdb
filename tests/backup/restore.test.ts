import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { quoteLiteral } from '../../src/pg/quote.js';
import { sideMarker } from '../../src/replace/leftover.js';
import { databasesLike, local, query, remote, urlFor } from '../support/db.js';
import {
  asAccount,
  cli,
  cliJson,
  createRemoteAccount,
  expectNoPasswordLeak,
  seedShop,
  tableCounts,
  writeProject,
  type Project,
  type RemoteAccount,
} from '../support/backup.js';

interface Created {
  backup: { id: string; file: string };
}
interface Restored {
  restore: { id: string; database: string; mode: string; previous: string | null; tables: number };
}

const passwords: string[] = [];
const folders: string[] = [];

async function account(createdb: boolean): Promise<RemoteAccount> {
  const a = await createRemoteAccount({ createdb, prefix: createdb ? 'bkrs' : 'bkip' });
  passwords.push(a.password);
  await seedShop(a, 30);
  return a;
}

function project(a: RemoteAccount, extra: { environment?: string; requireConfirmation?: boolean } = {}): Project {
  const p = writeProject([{ name: 'target', account: a, ...extra }]);
  folders.push(path.join(p.backupDir, 'target'));
  return p;
}

async function messUp(a: RemoteAccount): Promise<void> {
  await asAccount(
    a,
    `DELETE FROM shop.purchase WHERE id > 10;
     UPDATE shop.customer SET email = 'changed-' || id;
     CREATE TABLE shop.added_later (x int); INSERT INTO shop.added_later VALUES (1);`,
  );
}

describe('backup restore (user with CREATEDB): side database, checked, swapped in', () => {
  it('brings the old state back under the same name, keeps the replaced one as __dbfast_prev', async () => {
    const a = await account(true);
    await query(remote.adminUrl, `ALTER DATABASE "${a.database}" SET work_mem = '7MB'`);
    await query(remote.adminUrl, `ALTER DATABASE "${a.database}" SET search_path = "$user", shop, public`);
    await query(remote.adminUrl, `COMMENT ON DATABASE "${a.database}" IS 'the shop'`);
    await query(remote.adminUrl, `REVOKE ALL ON DATABASE "${a.database}" FROM PUBLIC; GRANT CONNECT ON DATABASE "${a.database}" TO pg_monitor`);
    const p = project(a);
    const original = await tableCounts(a.adminDbUrl);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    await messUp(a);
    // A session on the live database: the swap must end it rather than wait or fail.
    const session = new pg.Client({ host: inject('remoteTcpHost'), port: inject('remoteTcpPort'), user: a.role, password: a.password, database: a.database });
    session.on('error', () => undefined);
    await session.connect();

    const { restore } = await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(restore).toMatchObject({ id: backup.id, database: a.database, mode: 'swap', previous: `${a.database}__dbfast_prev`, tables: 3 });
    await expect(session.query('SELECT 1')).rejects.toThrow();
    await session.end().catch(() => undefined);

    // Same name, old state: through the account's own scram login, as the application would.
    expect(await tableCounts(a.adminDbUrl)).toEqual(original);
    const emails = await asAccount(a, 'SELECT email FROM shop.customer ORDER BY id LIMIT 1');
    expect(emails[0]?.email).toBe('c1@example.com');
    const added = await asAccount(a, "SELECT to_regclass('shop.added_later') AS t");
    expect(added[0]?.t).toBeNull();
    // Database-level properties of the live database survive the swap.
    const settings = await asAccount(a, "SELECT current_setting('work_mem') AS w, current_setting('search_path') AS s, shobj_description((SELECT oid FROM pg_database WHERE datname = current_database()), 'pg_database') AS c");
    expect(settings[0]).toEqual({ w: '7MB', s: '"$user", shop, public', c: 'the shop' });
    const acl = (db: string) =>
      query<{ g: string; p: string }>(
        remote.adminUrl,
        `SELECT coalesce(pg_get_userbyid(nullif(a.grantee, 0)), 'PUBLIC') AS g, a.privilege_type AS p
         FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = $1 ORDER BY 1, 2`,
        [db],
      );
    expect(await acl(a.database)).toEqual(await acl(`${a.database}__dbfast_prev`));
    expect((await acl(a.database)).map((r) => `${r.g}:${r.p}`)).toContain('pg_monitor:CONNECT');
    expect((await acl(a.database)).some((r) => r.g === 'PUBLIC')).toBe(false);
    const owner = await query<{ o: string }>(remote.adminUrl, 'SELECT pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = $1', [a.database]);
    expect(owner[0]?.o).toBe(a.role);

    // The replaced database is kept, with the changed data, and accepts connections (for a rollback).
    const prevUrl = urlFor(remote.adminUrl, `${a.database}__dbfast_prev`);
    expect((await query<{ n: string }>(prevUrl, 'SELECT count(*)::text AS n FROM shop.added_later'))[0]?.n).toBe('1');
    expect(await databasesLike(remote, `${a.database}__dbfast`)).toEqual([`${a.database}__dbfast_prev`]);

    // A second restore replaces the older prev with the database it replaces now.
    await asAccount(a, 'CREATE TABLE shop.second_change (y int)');
    await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    const prevTables = await query<{ t: boolean; u: boolean }>(
      prevUrl,
      "SELECT to_regclass('shop.second_change') IS NOT NULL AS t, to_regclass('shop.added_later') IS NOT NULL AS u",
    );
    expect(prevTables[0]).toEqual({ t: true, u: false });
    expect(await tableCounts(a.adminDbUrl)).toEqual(original);
  });

  it('drops a leftover side database (marked as dbfast\'s) before restoring', async () => {
    const a = await account(true);
    const p = project(a);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    const side = `${a.database}__dbfast_restore`;
    await query(remote.adminUrl, `CREATE DATABASE "${side}" OWNER "${a.role}"`);
    await query(remote.adminUrl, `COMMENT ON DATABASE "${side}" IS ${quoteLiteral(sideMarker(side))}`);
    await query(urlFor(remote.adminUrl, side), 'CREATE TABLE leftover (x int)');
    await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    const leftover = await query<{ t: string | null }>(a.adminDbUrl, "SELECT to_regclass('public.leftover')::text AS t");
    expect(leftover[0]?.t).toBeNull();
    expect(await databasesLike(remote, `${a.database}__dbfast_restore`)).toEqual([]);
  });

  it("keeps the live database's comment (or none): the side database's marker never goes live", async () => {
    const a = await account(true);
    const p = project(a);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    const comment = async (): Promise<unknown> => (await query(remote.adminUrl, "SELECT shobj_description(oid, 'pg_database') AS c FROM pg_database WHERE datname = $1", [a.database]))[0]?.c;
    await query(remote.adminUrl, `COMMENT ON DATABASE "${a.database}" IS 'the shop''s data'`);
    await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(await comment()).toBe("the shop's data");
    await query(remote.adminUrl, `COMMENT ON DATABASE "${a.database}" IS NULL`);
    await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(await comment()).toBeNull();
  });

  it('refuses, changing nothing, when a database it did not make has its side name', async () => {
    const a = await account(true);
    const p = project(a);
    const original = await tableCounts(a.adminDbUrl);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    await messUp(a);
    const messed = await tableCounts(a.adminDbUrl);
    const side = `${a.database}__dbfast_restore`;
    await query(remote.adminUrl, `CREATE DATABASE "${side}" OWNER "${a.role}"`);
    await query(urlFor(remote.adminUrl, side), 'CREATE TABLE precious (x int); INSERT INTO precious VALUES (42)');
    const result = await cli(p, ['--json', 'backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(2);
    const error = parseJson<{ error: { code: string; message: string; hint: string } }>(result).error;
    expect(error.code).toBe('SIDE_NAME_TAKEN');
    expect(error.message).toContain(`"${side}"`);
    expect(error.hint).toMatch(/rename it|drop it yourself/i);
    expect(await query(urlFor(remote.adminUrl, side), 'SELECT x FROM precious')).toEqual([{ x: 42 }]);
    expect(await tableCounts(a.adminDbUrl)).toEqual(messed);
    expect(messed).not.toEqual(original);
  });
});

describe('backup restore (user without CREATEDB): in place, one transaction', () => {
  it('restores in place', async () => {
    const a = await account(false);
    const p = project(a);
    const original = await tableCounts(a.adminDbUrl);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    await messUp(a);
    const { restore } = await cliJson<Restored>(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(restore).toMatchObject({ mode: 'in-place', previous: null, database: a.database });
    expect(await tableCounts(a.adminDbUrl)).toEqual(original);
    const emails = await asAccount(a, 'SELECT email FROM shop.customer ORDER BY id LIMIT 1');
    expect(emails[0]?.email).toBe('c1@example.com');
    expect(await databasesLike(remote, `${a.database}__dbfast`)).toEqual([]);
  });

  it('rolls everything back when pg_restore fails midway', async () => {
    const a = await account(false);
    const p = project(a);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    await messUp(a);
    // A view the backup does not know depends on a table in public that --clean must drop:
    // the restore fails after the shop schema was already dropped and recreated.
    await asAccount(a, 'CREATE VIEW public.odd_values AS SELECT v FROM public."Odd Name"');
    const before = await tableCounts(a.adminDbUrl);
    const emailsBefore = await asAccount(a, 'SELECT email FROM shop.customer ORDER BY id');

    const result = await cli(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/rolled back/);
    expect(result.stderr).toMatch(/other objects depend on it/);
    expect(await tableCounts(a.adminDbUrl)).toEqual(before);
    expect(await asAccount(a, 'SELECT email FROM shop.customer ORDER BY id')).toEqual(emailsBefore);
    const still = await asAccount(a, "SELECT to_regclass('shop.added_later') IS NOT NULL AS t, to_regclass('public.odd_values') IS NOT NULL AS v");
    expect(still[0]).toEqual({ t: true, v: true });
  });

  it('rolls back when the restored rows do not match the metadata (checked inside the transaction)', async () => {
    const a = await account(false);
    const p = project(a);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    const metaFile = path.join(p.backupDir, 'target', `${backup.id}.json`);
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { tables: Array<{ table: string; rows: number }> };
    const purchase = meta.tables.find((t) => t.table === 'purchase');
    if (purchase) purchase.rows = 5;
    writeFileSync(metaFile, JSON.stringify(meta));
    await messUp(a);
    const before = await tableCounts(a.adminDbUrl);

    const result = await cli(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/table "shop"."purchase" has 90 rows, the backup recorded 5/);
    expect(await tableCounts(a.adminDbUrl)).toEqual(before);
    const still = await asAccount(a, "SELECT to_regclass('shop.added_later') IS NOT NULL AS t");
    expect(still[0]).toEqual({ t: true });
  });
});

describe('confirmation', () => {
  it('refuses a production remote without --confirm (no TTY), then restores with it', async () => {
    const a = await account(true);
    const p = project(a, { environment: 'production' });
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    await messUp(a);
    const before = await tableCounts(a.adminDbUrl);
    const refused = await cli(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/needs confirmation; nothing was changed/);
    expect(refused.stderr).toMatch(/hint: .*--confirm/);
    expect(await tableCounts(a.adminDbUrl)).toEqual(before);
    const json = await cli(p, ['--json', 'backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(json.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string } }>(json).error.code).toBe('CONFIRMATION_REQUIRED');
    const ok = await cli(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id, '--confirm']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/kept as "[^"]+__dbfast_prev"/);
  });

  it('refuses a require_confirmation remote without --confirm', async () => {
    const a = await account(true);
    const p = project(a, { requireConfirmation: true });
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    const refused = await cli(p, ['backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    expect(refused.exitCode).toBe(2);
  });

  it('rejects an unknown or malformed backup id as a usage error', async () => {
    const a = await account(true);
    const p = project(a);
    const unknown = await cli(p, ['backup', 'restore', '--remote', 'target', '--backup-id', '20200101T000000Z-0000']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no backup 20200101T000000Z-0000/);
    const malformed = await cli(p, ['backup', 'verify', '--remote', 'target', '--backup-id', '../../etc/passwd']);
    expect(malformed.exitCode).toBe(2);
    expect(malformed.stderr).toMatch(/is not a backup id/);
  });
});

describe('backup verify --restore-test', () => {
  it('restores into a scratch database on the remote and records the result', async () => {
    const a = await account(true);
    const p = project(a);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    const body = await cliJson<{ verify: { ok: boolean; results: Array<{ restoreTest: { ok: boolean; server: string } }> } }>(p, [
      'backup', 'verify', '--remote', 'target', '--backup-id', backup.id, '--restore-test',
    ]);
    expect(body.verify.ok).toBe(true);
    expect(body.verify.results[0]?.restoreTest).toMatchObject({ ok: true, server: 'remote' });
    const meta = JSON.parse(readFileSync(path.join(p.backupDir, 'target', `${backup.id}.json`), 'utf8')) as Record<string, { ok: boolean; server?: string; at: string }>;
    expect(meta.verifiedByRestore).toMatchObject({ ok: true, server: 'remote', problems: [] });
    expect(meta.verified).toMatchObject({ ok: true });
    expect(await databasesLike(remote, `dbfast_verify_${backup.id.toLowerCase().replace('-', '_')}`)).toEqual([]);
    const list = await cliJson<{ backups: Array<{ id: string; verifiedByRestore: { ok: boolean } | null }> }>(p, ['backup', 'list', '--remote', 'target']);
    expect(list.backups[0]?.verifiedByRestore?.ok).toBe(true);
  });

  it('falls back to the local server when the remote user cannot create databases', async () => {
    const a = await account(false);
    const p = project(a);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    const body = await cliJson<{ verify: { results: Array<{ restoreTest: { ok: boolean; server: string } }> } }>(p, [
      'backup', 'verify', '--remote', 'target', '--backup-id', backup.id, '--restore-test',
    ]);
    expect(body.verify.results[0]?.restoreTest).toMatchObject({ ok: true, server: 'local' });
    expect(await databasesLike(local, 'dbfast_verify_')).toEqual([]);
  });

  it('fails (exit 3) and records it when the restored rows differ from the metadata', async () => {
    const a = await account(true);
    const p = project(a);
    const { backup } = await cliJson<Created>(p, ['backup', 'create', '--remote', 'target']);
    const metaFile = path.join(p.backupDir, 'target', `${backup.id}.json`);
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { tables: Array<{ table: string; rows: number }> };
    const customer = meta.tables.find((t) => t.table === 'customer');
    if (customer) customer.rows += 1;
    writeFileSync(metaFile, JSON.stringify(meta));
    const result = await cli(p, ['--json', 'backup', 'verify', '--remote', 'target', '--backup-id', backup.id, '--restore-test']);
    expect(result.exitCode).toBe(3);
    const body = parseJson<{ verify: { results: Array<{ problems: string[] }> } }>(result);
    expect(body.verify.results[0]?.problems).toEqual(['table "shop"."customer" has 30 rows, the backup recorded 31']);
    const after = JSON.parse(readFileSync(metaFile, 'utf8')) as { verifiedByRestore: { ok: boolean } };
    expect(after.verifiedByRestore.ok).toBe(false);
  });
});

describe('secrets', () => {
  it('never shows a password in any output or metadata', () => {
    expect(passwords.length).toBeGreaterThan(0);
    expectNoPasswordLeak(passwords, folders);
  });
});
