import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFiles, type SqlFile } from '../../src/sql/index.js';
import { targetFromUrl } from '../../src/pg/target.js';
import { local, query, uniqueName } from '../support/db.js';
import { failure, freshTarget } from '../support/sql.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-operational-'));
const roles: string[] = [];
afterAll(async () => {
  for (const role of roles) await query(local.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
});

function file(name: string, sql: string): SqlFile {
  writeFileSync(path.join(dir, name), sql);
  return { relativePath: `0/${name}`, absolutePath: path.join(dir, name) };
}

describe('an operational failure inside a SQL file keeps its own code and hint, with the file:line', () => {
  for (const runner of ['inprocess', 'psql'] as const) {
    it(`disk full (SQLSTATE 53100) is DISK_FULL, not "fix the SQL" (${runner})`, async () => {
      const { target } = await freshTarget();
      const sql = file(`disk-${runner}.sql`, "SELECT 1;\nDO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full', MESSAGE = 'could not write to file \"pg_wal/xlogtemp.1\": No space left on device'; END $$;\n");
      const error = await failure(runFiles([sql], { target, runner }));
      expect(error.code, error.message).toBe('DISK_FULL');
      expect(error.message).toMatch(new RegExp(`^0/disk-${runner}\\.sql:2:\\d+: the database server ran out of disk space`));
      expect(error.hint).toContain('Free space on the database server');
      expect(error.hint).not.toContain('Fix the SQL');
      expect(error.details).toMatchObject({ file: `0/disk-${runner}.sql`, line: 2, sqlstate: '53100' });
    });

    it(`a missing privilege to set a parameter is PERMISSION_DENIED with the GRANT (${runner})`, async () => {
      const { url } = await freshTarget();
      const role = uniqueName('opperm');
      roles.push(role);
      await query(local.adminUrl, `CREATE ROLE "${role}" LOGIN`);
      const parsed = new URL(url);
      parsed.username = role;
      const sql = file(`perm-${runner}.sql`, 'SELECT 1;\nSET session_replication_role = replica;\n');
      const error = await failure(runFiles([sql], { target: targetFromUrl(parsed.toString()), runner }));
      expect(error.code, error.message).toBe('PERMISSION_DENIED');
      expect(error.message).toMatch(new RegExp(`^0/perm-${runner}\\.sql:2:1: permission denied`));
      expect(error.hint).toContain(`GRANT SET ON PARAMETER "session_replication_role" TO`);
      expect(error.details).toMatchObject({ line: 2, sqlstate: '42501' });
    });
  }

  it('the session ended by the server (57P01) is CONNECTION_LOST at the statement', async () => {
    const { target } = await freshTarget();
    const sql = file('terminate.sql', 'SELECT 1;\nSELECT pg_terminate_backend(pg_backend_pid());\n');
    const error = await failure(runFiles([sql], { target }));
    expect(error.code, error.message).toBe('CONNECTION_LOST');
    expect(error.message).toMatch(/^0\/terminate\.sql:\d+:\d+: lost the connection/);
    expect(error.hint ?? '').not.toContain('Fix the SQL');
  });
});
