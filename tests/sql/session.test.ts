import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runFiles } from '../../src/sql/index.js';
import { local, query, uniqueName } from '../support/db.js';
import { failure, freshTarget } from '../support/sql.js';

const pgBinDir = inject('pgBinDir') || undefined;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'dbfast-session-'));
const role = uniqueName('session_role');
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await query(local.adminUrl, `DROP ROLE IF EXISTS "${role}"`);
});

function scratchFile(name: string, content: string): { relativePath: string; absolutePath: string } {
  const absolutePath = path.join(scratch, name);
  writeFileSync(absolutePath, content);
  return { relativePath: name, absolutePath };
}

describe('each file starts from the database defaults, in both runners', () => {
  for (const runner of ['inprocess', 'psql'] as const) {
    it(`settings a file makes (search_path emptied as pg_dump does, SET, SET ROLE, a temporary table) do not reach the next file (${runner})`, async () => {
      const { url, target } = await freshTarget();
      await query(local.adminUrl, `DO $$ BEGIN CREATE ROLE "${role}" NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
      const first = scratchFile('010_dump.sql', [
        "SELECT pg_catalog.set_config('search_path', '', false);",
        'CREATE TABLE public.from_dump (id int);',
        "SET statement_timeout = '17s';",
        'SET datestyle = SQL, DMY;',
        "SET application_name = 'changed by a file';",
        'CREATE SCHEMA other;',
        'CREATE TEMPORARY TABLE scratch_rows (id int);',
        `SET ROLE "${role}";`,
        '',
      ].join('\n'));
      const second = scratchFile('020_next.sql', [
        'CREATE TABLE unqualified (id int);',
        "CREATE TABLE settings AS SELECT current_setting('search_path') AS search_path, current_setting('statement_timeout') AS timeout, current_setting('DateStyle') AS datestyle;",
        "CREATE TABLE who AS SELECT current_user::text AS current_user_name, to_regclass('scratch_rows')::text AS temporary_table;",
        '',
      ].join('\n'));
      await runFiles([first, second], { target, runner, pgBinDir });
      expect(await query(url, "SELECT to_regclass('public.unqualified')::text AS t")).toEqual([{ t: 'unqualified' }]);
      const defaults = await query<{ search_path: string; timeout: string; datestyle: string }>(url, "SELECT current_setting('search_path') AS search_path, current_setting('statement_timeout') AS timeout, current_setting('DateStyle') AS datestyle");
      expect(await query(url, 'SELECT * FROM settings')).toEqual(defaults);
      expect(await query(url, 'SELECT current_user_name, temporary_table FROM who')).toEqual([{ current_user_name: new URL(local.adminUrl).username || 'postgres', temporary_table: null }]);
      expect(await query(url, "SELECT tableowner <> $1 AS not_the_role FROM pg_tables WHERE tablename = 'unqualified'", [role])).toEqual([{ not_the_role: true }]);
    });

    it(`a database setting made by one file (ALTER DATABASE ... SET) is in force in the next file (${runner})`, async () => {
      const { url, target } = await freshTarget();
      const first = scratchFile('010_settings.sql', "ALTER DATABASE :\"DBNAME\" SET app.setting = 'from the database';\nSET app.setting = 'from this session';\n");
      const second = scratchFile('020_reads.sql', "CREATE TABLE seen AS SELECT current_setting('app.setting', true) AS value;\n");
      await runFiles([first, second], { target, runner, pgBinDir });
      expect(await query(url, 'SELECT value FROM seen')).toEqual([{ value: 'from the database' }]);
    });

    it(`transaction defaults a file sets on the database (read only, isolation) are in force in the next file's transactions (${runner})`, async () => {
      const { url, target } = await freshTarget();
      const first = scratchFile('010_defaults.sql', "CREATE TABLE t (x text);\nALTER DATABASE :\"DBNAME\" SET default_transaction_isolation = 'serializable';\n");
      const second = scratchFile('020_reads.sql', "CREATE TABLE seen AS SELECT current_setting('transaction_isolation') AS isolation;\n");
      await runFiles([first, second], { target, runner, pgBinDir });
      expect(await query(url, 'SELECT isolation FROM seen')).toEqual([{ isolation: 'serializable' }]);
      const readOnly = scratchFile('030_read_only.sql', 'ALTER DATABASE :"DBNAME" SET default_transaction_read_only = on;\n');
      const writes = scratchFile('040_writes.sql', "SELECT 1;\nINSERT INTO t VALUES ('hello');\n");
      const error = await failure(runFiles([readOnly, writes], { target, runner, pgBinDir }));
      expect(error.message).toMatch(/^040_writes\.sql:2:1: cannot execute INSERT in a read-only transaction/);
      expect(error.hint).toMatch(/default_transaction_read_only/);
    });
  }

  it('a transaction a file opens and never ends is refused at the end of that file (psql would lose its work there)', async () => {
    const { url, target } = await freshTarget();
    const first = scratchFile('open1.sql', 'CREATE TABLE kept (id int);\nBEGIN;\nCREATE TABLE lost (id int);\n');
    const second = scratchFile('open2.sql', 'COMMIT;\n');
    const error = await failure(runFiles([first, second], { target }));
    expect(error.code).toBe('SQL_OPEN_TRANSACTION');
    expect(error.message).toMatch(/^open1\.sql:2: BEGIN; starts a transaction that open1\.sql never ends/);
    expect(await query(url, "SELECT to_regclass('lost')::text AS lost")).toEqual([{ lost: null }]);
  });
});
