import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { testRemote } from '../../src/index.js';
import { parseJson, type CliResult } from '../support/cli.js';
import { query, remote, urlFor } from '../support/db.js';
import { cli, writeProject, type RemoteAccount } from '../support/backup.js';
import { remoteDatabase, scramRole, type ScramRole } from '../support/remote.js';

/**
 * `remote test` (and so `deploy --dry-run` and deploy's preflight, which run the same checks)
 * must not call a remote ready when pg_dump, which every backup and deploy runs first, would
 * be refused: the connecting role has to be able to read every schema, table, sequence and
 * large object of the live database. What the check says is held to what pg_dump really does.
 */

interface Check {
  name: string;
  ok: boolean;
  severity: string;
  detail: string;
  hint?: string;
  code?: string;
}

interface Report {
  ok: boolean;
  checks: Check[];
}

function readCheck(report: Report): Check {
  const found = report.checks.find((c) => c.name === 'read');
  if (!found) throw new Error(`no "read" check in ${JSON.stringify(report.checks)}`);
  return found;
}

function output(result: CliResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

/**
 * A live database owned by the superuser, with data in two schemas, an identity sequence and a
 * large object: what a role that owns nothing finds on a realistic remote.
 */
async function liveDatabase(): Promise<{ name: string; adminUrl: string; largeObject: number }> {
  const name = await remoteDatabase();
  const adminUrl = urlFor(remote.adminUrl, name);
  await query(
    adminUrl,
    `REVOKE CONNECT ON DATABASE "${name}" FROM PUBLIC;
     CREATE SCHEMA app;
     CREATE TABLE app.customer (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
     INSERT INTO app.customer (email) VALUES ('a@example.com'), ('b@example.com');
     CREATE SCHEMA archive;
     CREATE TABLE archive.note (v text);
     INSERT INTO archive.note VALUES ('kept');
     CREATE TABLE public.secret (v text);
     INSERT INTO public.secret VALUES ('s');`,
  );
  const [lo] = await query<{ lo: number }>(adminUrl, "SELECT lo_from_bytea(0, 'blob')::int AS lo");
  return { name, adminUrl, largeObject: Number(lo?.lo) };
}

/** A role that owns nothing, with CONNECT on the database and whatever `grants` add. */
async function reader(db: { name: string; adminUrl: string }, attributes = '', grants = ''): Promise<ScramRole> {
  const role = await scramRole(attributes);
  await query(db.adminUrl, `GRANT CONNECT ON DATABASE "${db.name}" TO "${role.name}"; ${grants.replaceAll('$ROLE', `"${role.name}"`)}`);
  return role;
}

/** A dbfast project (with a backup folder) whose remote `target` connects as `role` to `database`. */
function projectFor(role: ScramRole, database: string): ReturnType<typeof writeProject> {
  const account: RemoteAccount = {
    role: role.name,
    password: role.password,
    database,
    url: role.urlFor(database),
    adminDbUrl: urlFor(remote.adminUrl, database),
    passwordEnv: 'TARGET_PW',
  };
  return writeProject([{ name: 'target', account }]);
}

async function remoteTest(project: ReturnType<typeof writeProject>): Promise<{ result: CliResult; report: Report }> {
  const result = await cli(project, ['--json', 'remote', 'test', 'target']);
  return { result, report: parseJson<Report>(result) };
}

describe('remote test: the role must be able to read everything pg_dump reads', () => {
  it('a role that owns nothing and may only connect: not ready, PERMISSION_DENIED names objects, privileges and GRANTs; backup create agrees; the GRANTs fix it', async () => {
    const db = await liveDatabase();
    const role = await reader(db);
    const project = projectFor(role, db.name);

    const { result, report } = await remoteTest(project);
    expect(result.exitCode, output(result)).toBe(3);
    expect(report.ok).toBe(false);
    const read = readCheck(report);
    expect(read).toMatchObject({ ok: false, severity: 'error', code: 'PERMISSION_DENIED' });
    expect(read.detail).toContain(role.name);
    expect(read.detail).toContain('schema app (USAGE)');
    expect(read.detail).toContain('schema archive (USAGE)');
    expect(read.detail).toContain('table public.secret (SELECT)');
    // Five objects shown, the rest counted: 2 schemas, 3 tables, 1 sequence, 1 large object.
    expect(read.detail).toMatch(/7 objects/);
    expect(read.detail).toMatch(/and 2 more/);
    expect(read.hint).toContain(`GRANT USAGE ON SCHEMA app TO "${role.name}";`);
    expect(read.hint).toContain(`GRANT SELECT ON public.secret TO "${role.name}";`);
    expect(read.hint).toContain(`GRANT SELECT ON SEQUENCE app.customer_id_seq TO "${role.name}";`);
    expect(read.hint).toContain(`GRANT SELECT ON LARGE OBJECT ${db.largeObject} TO "${role.name}";`);
    expect(read.hint).toMatch(/connect as (their|its) owner/);

    // The text output names the code too.
    const human = await cli(project, ['remote', 'test', 'target']);
    expect(human.exitCode).toBe(3);
    expect(human.stdout).toMatch(/FAIL\s+read\s+PERMISSION_DENIED/);
    expect(human.stdout).toMatch(/not ready for backups and deploys/);

    // The library says the same.
    const library = await testRemote({ remote: 'target', cwd: project.dir, env: { ...project.env } });
    expect(library.ok).toBe(false);
    expect(readCheck(library)).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });

    // What the check predicted is what pg_dump does.
    const backup = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(backup.exitCode, output(backup)).toBe(1);
    expect(parseJson<{ error: { code: string } }>(backup).error.code).toBe('PERMISSION_DENIED');

    // Running exactly the GRANTs of the hint, as the owner (here the superuser), makes it ready, and pg_dump works.
    const grants = (read.hint ?? '').match(/GRANT [^;]+;/g) ?? [];
    expect(grants.length).toBeGreaterThan(0);
    await query(db.adminUrl, grants.join('\n'));
    const again = await remoteTest(project);
    expect(again.result.exitCode, output(again.result)).toBe(0);
    expect(readCheck(again.report)).toMatchObject({ ok: true });
    const works = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(works.exitCode, output(works)).toBe(0);
    // Ten CLI runs on a machine shared with other test files: more than the default minute.
  }, 180_000);

  it('deploy --dry-run shows the same check, and the deploy refuses before any change with PERMISSION_DENIED (recorded as refused)', async () => {
    const db = await liveDatabase();
    const role = await reader(db);
    const project = projectFor(role, db.name);
    const read = readCheck((await remoteTest(project)).report);
    writeFileSync(path.join(project.dir, '001_table.sql'), 'CREATE TABLE deployed (id int);\n');
    const dry = await cli(project, ['--json', 'deploy', '--remote', 'target', '--dry-run']);
    expect(parseJson<{ plan: { checks: Check[] } }>(dry).plan.checks.find((c) => c.name === 'read'), output(dry)).toEqual(read);
    const deployed = await cli(project, ['--json', 'deploy', '--remote', 'target', '--confirm']);
    expect(deployed.exitCode, output(deployed)).toBe(1);
    const refusal = parseJson<{ error: { code: string; message: string; details: { checks: Check[] } } }>(deployed).error;
    expect(refusal.code).toBe('PERMISSION_DENIED');
    expect(refusal.message).toContain('refused before any change');
    expect(refusal.message).toContain('read: PERMISSION_DENIED: ');
    expect(refusal.details.checks).toEqual([read]);
    expect(await query(db.adminUrl, "SELECT 1 FROM pg_tables WHERE tablename = 'deployed'")).toEqual([]);
    // Refused runs are recorded locally (nothing was written to the remote).
    const recorded = readFileSync(path.join(project.dir, '.dbfast', 'history', 'target.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { result: string });
    expect(recorded.map((record) => record.result)).toEqual(['refused']);
  });

  it('SELECT on every table and sequence but no USAGE on one schema: only that schema is named', async () => {
    const db = await liveDatabase();
    const role = await reader(
      db,
      '',
      `GRANT USAGE ON SCHEMA app TO $ROLE;
       GRANT SELECT ON ALL TABLES IN SCHEMA app, archive, public TO $ROLE;
       GRANT SELECT ON ALL SEQUENCES IN SCHEMA app TO $ROLE;
       GRANT SELECT ON LARGE OBJECT ${db.largeObject} TO $ROLE;`,
    );
    const project = projectFor(role, db.name);
    const { result, report } = await remoteTest(project);
    expect(result.exitCode, output(result)).toBe(3);
    const read = readCheck(report);
    expect(read).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });
    expect(read.detail).toContain('1 object');
    expect(read.detail).toContain('schema archive (USAGE)');
    expect(read.detail).not.toContain('table ');
    expect(read.hint).toContain(`GRANT USAGE ON SCHEMA archive TO "${role.name}";`);
    const backup = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(backup.exitCode, output(backup)).toBe(1);
    expect(output(backup)).toContain('permission denied for schema archive');
  });

  it('a superuser and the owner of everything pass', async () => {
    const db = await liveDatabase();
    const superuser = await reader(db, 'SUPERUSER');
    const asSuperuser = await remoteTest(projectFor(superuser, db.name));
    expect(asSuperuser.result.exitCode, output(asSuperuser.result)).toBe(0);
    expect(readCheck(asSuperuser.report)).toMatchObject({ ok: true });

    // A role that owns the database and everything in it (no grants at all).
    const owner = await scramRole();
    const owned = await remoteDatabase(owner.name);
    const ownedUrl = urlFor(remote.adminUrl, owned);
    await query(ownedUrl, `SET ROLE "${owner.name}"; CREATE SCHEMA app; CREATE TABLE app.customer (id bigint GENERATED ALWAYS AS IDENTITY, v text); INSERT INTO app.customer (v) VALUES ('x'); SELECT lo_from_bytea(0, 'blob');`);
    const ownerProject = projectFor(owner, owned);
    const asOwner = await remoteTest(ownerProject);
    expect(asOwner.result.exitCode, output(asOwner.result)).toBe(0);
    expect(readCheck(asOwner.report)).toMatchObject({ ok: true });
    expect((await cli(ownerProject, ['--json', 'backup', 'create', '--remote', 'target'])).exitCode).toBe(0);
  });

  it('a member of pg_read_all_data passes where it has no large object to read; large objects and row-level security are still named', async () => {
    const db = await liveDatabase();
    const role = await reader(db, '', 'GRANT pg_read_all_data TO $ROLE;');
    const project = projectFor(role, db.name);
    // PostgreSQL before 19: pg_read_all_data does not cover large objects, and pg_dump is refused.
    const [server] = await query<{ num: string }>(remote.adminUrl, "SELECT current_setting('server_version_num') AS num");
    const coversLargeObjects = Number(server?.num) >= 190000;
    const withLargeObject = await remoteTest(project);
    const backupWithLargeObject = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(readCheck(withLargeObject.report).ok).toBe(coversLargeObjects);
    expect(backupWithLargeObject.exitCode === 0, output(backupWithLargeObject)).toBe(coversLargeObjects);
    if (!coversLargeObjects) expect(readCheck(withLargeObject.report).detail).toContain(`large object ${db.largeObject} (SELECT)`);

    await query(db.adminUrl, `SELECT lo_unlink(${db.largeObject})`);
    const ready = await remoteTest(project);
    expect(ready.result.exitCode, output(ready.result)).toBe(0);
    expect(readCheck(ready.report)).toMatchObject({ ok: true });
    expect((await cli(project, ['--json', 'backup', 'create', '--remote', 'target'])).exitCode).toBe(0);

    // pg_dump runs with row_security off: a table whose policies apply to the role is refused.
    await query(db.adminUrl, 'ALTER TABLE public.secret ENABLE ROW LEVEL SECURITY');
    const rls = await remoteTest(project);
    expect(rls.result.exitCode, output(rls.result)).toBe(3);
    const read = readCheck(rls.report);
    expect(read).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });
    expect(read.detail).toContain('table public.secret (row-level security)');
    expect(read.hint).toContain(`ALTER ROLE "${role.name}" BYPASSRLS;`);
    const refused = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(refused.exitCode).toBe(1);
    expect(output(refused)).toContain('row-level security');
  });

  it('a server that revokes a catalog pg_dump queries: the catalog is named, and only a superuser can fix it', async () => {
    const db = await liveDatabase();
    await query(db.adminUrl, 'REVOKE SELECT ON pg_catalog.pg_proc FROM PUBLIC');
    const role = await reader(db, '', 'GRANT USAGE ON SCHEMA app, archive TO $ROLE; GRANT SELECT ON ALL TABLES IN SCHEMA app, archive, public TO $ROLE; GRANT SELECT ON ALL SEQUENCES IN SCHEMA app TO $ROLE;');
    await query(db.adminUrl, `SELECT lo_unlink(${db.largeObject})`);
    const project = projectFor(role, db.name);
    const { result, report } = await remoteTest(project);
    expect(result.exitCode, output(result)).toBe(3);
    const read = readCheck(report);
    expect(read).toMatchObject({ ok: false, code: 'PERMISSION_DENIED' });
    expect(read.detail).toContain('1 object');
    expect(read.detail).toContain('catalog pg_catalog.pg_proc (SELECT)');
    expect(read.hint).toContain(`GRANT SELECT ON pg_catalog.pg_proc TO "${role.name}";`);
    expect(read.hint).toContain('connect as a superuser');
    const backup = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(backup.exitCode).toBe(1);
    expect(output(backup)).toContain('permission denied for table pg_proc');
  });

  it('a missing database is not read (a first deploy creates it)', async () => {
    const role = await scramRole('CREATEDB');
    const project = projectFor(role, `missing_${inject('remoteTcpPort')}_${Date.now().toString(36)}`);
    const { report } = await remoteTest(project);
    expect(report.checks.find((c) => c.name === 'read')).toBeUndefined();
  });
});
