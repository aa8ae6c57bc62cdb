import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runClusterSetup, runFiles, serverWideStatement, splitSql, type SqlStatement } from '../../src/sql/index.js';
import { otherDatabase } from '../../src/sql/server-wide.js';
import { local, query, uniqueName } from '../support/db.js';
import { failure, freshTarget } from '../support/sql.js';

const pgBinDir = inject('pgBinDir') || undefined;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'dbfast-cluster-'));
const roles: string[] = [];
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  for (const role of roles) await query(local.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
});

function scratchFile(name: string, content: string): { relativePath: string; absolutePath: string } {
  const absolutePath = path.join(scratch, name);
  writeFileSync(absolutePath, content);
  return { relativePath: `db/${name}`, absolutePath };
}

function kind(sql: string): string | undefined {
  return serverWideStatement((splitSql(sql)[0] as SqlStatement).words);
}

describe('statements that act on the whole server', () => {
  it('are told apart from statements that act on the database', () => {
    const serverWide: Array<[string, string]> = [
      ['CREATE ROLE app LOGIN;', 'CREATE ROLE'],
      ['create user app;', 'CREATE USER'],
      ['CREATE GROUP staff;', 'CREATE GROUP'],
      ['ALTER ROLE app SET search_path = app;', 'ALTER ROLE'],
      ['ALTER USER app WITH PASSWORD NULL;', 'ALTER USER'],
      ['DROP ROLE IF EXISTS a, b;', 'DROP ROLE'],
      ['DROP USER app;', 'DROP USER'],
      ['GRANT postgrest_anon, "Other Role" TO authenticator;', 'GRANT of a role'],
      ['REVOKE ADMIN OPTION FOR admins FROM app;', 'REVOKE of a role'],
      ["ALTER SYSTEM SET work_mem = '64MB';", 'ALTER SYSTEM'],
      ["CREATE TABLESPACE fast LOCATION '/ssd';", 'CREATE TABLESPACE'],
      ['DROP TABLESPACE fast;', 'DROP TABLESPACE'],
      ['CREATE DATABASE other;', 'CREATE DATABASE'],
      ['DROP DATABASE IF EXISTS chinook;', 'DROP DATABASE'],
      ["COMMENT ON ROLE app IS 'the app';", 'COMMENT ON ROLE'],
    ];
    for (const [sql, expected] of serverWide) expect(kind(sql), sql).toBe(expected);
    const database = [
      'GRANT SELECT ON TABLE t TO app;',
      'GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA s TO app;',
      'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON t TO app;',
      'GRANT SELECT (a, b) ON t TO app;',
      'REVOKE ALL ON t FROM PUBLIC;',
      "ALTER ROLE app IN DATABASE shop SET search_path = 'app';",
      'CREATE USER MAPPING FOR app SERVER files;',
      'ALTER USER MAPPING FOR app SERVER files OPTIONS (SET user \'x\');',
      'DROP USER MAPPING FOR app SERVER files;',
      'ALTER DEFAULT PRIVILEGES FOR ROLE app GRANT SELECT ON TABLES TO reader;',
      "ALTER DATABASE shop SET request.jwt.claim.id = '-1';",
      'CREATE TABLE role (id int);',
      'SET ROLE app;',
    ];
    for (const sql of database) expect(kind(sql), sql).toBeUndefined();
  });

  it('are refused in template files, by both runners, naming file:line:column and cluster_setup, before anything runs', async () => {
    const file = scratchFile('roles.sql', "CREATE TABLE before_roles (id int);\n\nCREATE ROLE app_never_made;\nGRANT SELECT ON before_roles TO PUBLIC;\n");
    for (const runner of ['inprocess', 'psql'] as const) {
      const { url, target } = await freshTarget();
      const error = await failure(runFiles([file], { target, runner, pgBinDir, serverWide: 'refuse' }));
      expect(error.code).toBe('SQL_SERVER_WIDE');
      expect(error.message).toBe('db/roles.sql:3:1: CREATE ROLE acts on the whole server, not on the database being built');
      expect(error.hint).toMatch(/cluster_setup = \["db\/roles\.sql"\]/);
      expect(error.details).toMatchObject({ file: 'db/roles.sql', line: 3, column: 1, statement: 'CREATE ROLE' });
      expect(await query(url, "SELECT to_regclass('before_roles') AS t")).toEqual([{ t: null }]);
    }
    expect(await query(local.adminUrl, "SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'app_never_made'")).toEqual([{ n: 0 }]);
  });
});

describe('statements that name another database', () => {
  const named = (sql: string): string | undefined => {
    const other = otherDatabase(splitSql(sql)[0] as SqlStatement);
    return other && `${other.statement} ${other.written}`;
  };

  it('are told apart from statements that name the database being built (:"DBNAME")', () => {
    const others: Array<[string, string]> = [
      ["ALTER DATABASE postgres SET work_mem = '77MB';", 'ALTER DATABASE postgres'],
      ['alter database "My DB" set app.flag = \'on\';', 'ALTER DATABASE "My DB"'],
      ['ALTER DATABASE /* c */ app_local OWNER TO app;', 'ALTER DATABASE app_local'],
      ['ALTER DATABASE :other SET x.y = 1;', 'ALTER DATABASE :other'],
      ["ALTER ROLE \"we\"\"ird role\" IN DATABASE postgres SET work_mem='9MB';", 'ALTER ROLE ... IN DATABASE postgres'],
      ['ALTER ROLE ALL IN DATABASE shop RESET ALL;', 'ALTER ROLE ... IN DATABASE shop'],
      ["COMMENT ON DATABASE postgres IS 'mine';", 'COMMENT ON DATABASE postgres'],
      ["SECURITY LABEL FOR dummy ON DATABASE postgres IS 'x';", 'SECURITY LABEL ON DATABASE postgres'],
      ['GRANT CONNECT ON DATABASE :"DBNAME", postgres TO PUBLIC;', 'GRANT ... ON DATABASE postgres'],
      ['REVOKE ALL ON DATABASE postgres FROM PUBLIC;', 'REVOKE ... ON DATABASE postgres'],
    ];
    for (const [sql, expected] of others) expect(named(sql), sql).toBe(expected);
    const own = [
      'ALTER DATABASE :"DBNAME" SET search_path = s1;',
      'ALTER DATABASE :DBNAME SET search_path = s1;',
      'ALTER ROLE app IN DATABASE :"DBNAME" SET statement_timeout = \'2s\';',
      "COMMENT ON DATABASE :\"DBNAME\" IS 'postgres';",
      'GRANT CONNECT, TEMPORARY ON DATABASE :"DBNAME" TO app;',
      'GRANT SELECT ON TABLE database TO app;',
      "ALTER TABLE t SET (fillfactor = 70);",
      "COMMENT ON TABLE t IS 'ON DATABASE postgres';",
      "ALTER ROLE app SET search_path = 'x';",
    ];
    for (const sql of own) expect(named(sql), sql).toBeUndefined();
  });

  it('are refused in template files by both runners, naming file:line:column and :"DBNAME", before anything runs', async () => {
    const file = scratchFile('other.sql', "CREATE TABLE before_other (id int);\nALTER DATABASE :\"DBNAME\" SET app.own = 'yes';\nALTER ROLE \"we\"\"ird role\"\n  IN DATABASE postgres SET work_mem = '9MB';\n");
    for (const runner of ['inprocess', 'psql'] as const) {
      const { url, target } = await freshTarget();
      const error = await failure(runFiles([file], { target, runner, pgBinDir, serverWide: 'refuse' }));
      expect(error.code).toBe('SQL_SERVER_WIDE');
      expect(error.message).toBe('db/other.sql:4:15: ALTER ROLE ... IN DATABASE postgres names another database, not the database being built');
      expect(error.hint).toMatch(/^Write ALTER ROLE \.\.\. IN DATABASE :"DBNAME" instead/);
      expect(error.details).toMatchObject({ file: 'db/other.sql', line: 4, column: 15, database: 'postgres' });
      expect(await query(url, "SELECT to_regclass('before_other') AS t")).toEqual([{ t: null }]);
    }
  });
});

describe('runClusterSetup', () => {
  it('runs the setup files once, skips them while nothing changed and the roles they make exist, and runs them again after an edit', async () => {
    const role = uniqueName('setup_role');
    roles.push(role);
    const file = scratchFile('setup.sql', `DROP ROLE IF EXISTS "${role}";\nCREATE ROLE "${role}" NOLOGIN;\n`);
    const { target } = await freshTarget();
    let recorded: string | undefined;
    const state = { applied: async () => recorded, record: async (hash: string) => void (recorded = hash) };
    const first = await runClusterSetup([file], { target, state });
    expect(first).toMatchObject({ ran: true, files: 1, roles: [role] });
    expect(await query(local.adminUrl, 'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role])).toEqual([{ rolcanlogin: false }]);
    // DROP ROLE would fail now if anything used the role: a second run must not happen.
    const fresh = await freshTarget();
    await query(fresh.url, `CREATE TABLE owned (id int); GRANT SELECT ON owned TO "${role}"`);
    expect(await runClusterSetup([file], { target, state })).toMatchObject({ ran: false, hash: first.hash });
    await query(fresh.url, `REVOKE SELECT ON owned FROM "${role}"`);
    // A role that went missing (a new server, someone dropped it) runs the setup again.
    await query(local.adminUrl, `DROP ROLE "${role}"`);
    expect(await runClusterSetup([file], { target, state })).toMatchObject({ ran: true });
    writeFileSync(file.absolutePath, `DROP ROLE IF EXISTS "${role}";\nCREATE ROLE "${role}" LOGIN;\n`);
    const edited = await runClusterSetup([file], { target, state, runner: 'psql', pgBinDir });
    expect(edited.ran).toBe(true);
    expect(edited.hash).not.toBe(first.hash);
    expect(await query(local.adminUrl, 'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role])).toEqual([{ rolcanlogin: true }]);
  });

  it('switching [repository] runner is not a change: the same files do the same to the server, so they do not run again', async () => {
    const role = uniqueName('setup_role');
    roles.push(role);
    const file = scratchFile('setup.sql', `DROP ROLE IF EXISTS "${role}";\nCREATE ROLE "${role}" NOLOGIN;\n`);
    const { target, url } = await freshTarget();
    let recorded: string | undefined;
    const state = { applied: async () => recorded, record: async (hash: string) => void (recorded = hash) };
    expect(await runClusterSetup([file], { target, state, runner: 'psql', pgBinDir })).toMatchObject({ ran: true });
    // Once a database uses the role, running the DROP ROLE again would fail the build.
    await query(url, `CREATE TABLE used (id int); GRANT SELECT ON used TO "${role}"`);
    expect(await runClusterSetup([file], { target, state, runner: 'inprocess' })).toMatchObject({ ran: false, upToDate: true });
    expect(await runClusterSetup([file], { target, state, runner: 'psql', pgBinDir })).toMatchObject({ ran: false, upToDate: true });
    await query(url, `REVOKE SELECT ON used FROM "${role}"`);
  });
});
