import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runFiles, type RunFilesOptions } from '../../src/sql/index.js';
import { query } from '../support/db.js';
import { dumpSchemaAndData } from '../support/differential.js';
import { failure, freshTarget } from '../support/sql.js';

const pgBinDir = inject('pgBinDir') || undefined;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'dbfast-vars-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, content: string): { relativePath: string; absolutePath: string } {
  const absolutePath = path.join(scratch, name);
  writeFileSync(absolutePath, content);
  return { relativePath: `db/${name}`, absolutePath };
}

const PSQL_HINT = /runner = "psql" in \[repository\].*--runner psql/;

/** psql's rules: substituted outside quotes, dollar quotes and comments; undefined ones left as written. */
const VARIABLES_SQL = `CREATE TABLE :"tbl" (id int, who text, note text, flag boolean);
-- :owner in a line comment, /* and :'owner' */ are left alone
INSERT INTO :"tbl" VALUES (1, :'owner', ':owner in quotes', :{?owner});
INSERT INTO :"tbl" VALUES (2, $$:owner in dollar quotes$$, E'\\':owner', :{?not_defined_anywhere});
INSERT INTO :"tbl" (id, note) SELECT 3, ":owner" FROM (SELECT 'quoted identifier' AS ":owner") AS s WHERE false;
/* :owner in a block comment */ INSERT INTO :"tbl" VALUES (4, NULL, (ARRAY['a','b','c','d'])[2:3]::text, true) ;
\\set greeting 'hello, ' :owner '!'
\\set n 5
INSERT INTO :"tbl" VALUES (:n, :'greeting', :'tbl', :flag);
\\unset n
INSERT INTO :"tbl" SELECT 6, :'greeting', arr[1:n]::text, true FROM (SELECT ARRAY['x','y'] AS arr, 2 AS n) AS s;
CREATE FUNCTION owner_f() RETURNS text LANGUAGE sql AS $body$ SELECT ':owner' || $q$:owner$q$ $body$;
`;

async function runBoth(sql: string, options: Partial<RunFilesOptions>): Promise<{ inprocess: string; psql: string }> {
  const inprocess = await freshTarget();
  const viaPsql = await freshTarget();
  const file = scratchFile('vars.sql', sql);
  await runFiles([file], { target: inprocess.target, ...options });
  await runFiles([file], { target: viaPsql.target, runner: 'psql', pgBinDir, ...options });
  return { inprocess: inprocess.url, psql: viaPsql.url };
}

describe('psql variables', () => {
  it('are substituted in-process exactly as psql does (literal, identifier, :{?name}, \\set, \\unset, undefined, quotes untouched)', async () => {
    // n is unset before arr[1:n], so that stays an array slice. A backslash makes psql quote a literal as E'...'.
    const variables = { owner: "o'brien\\x", tbl: 'My "Tab"le', flag: 'false' };
    const { inprocess, psql } = await runBoth(VARIABLES_SQL, { variables });
    const rows = await query(inprocess, 'SELECT id, who, note, flag FROM "My ""Tab""le" ORDER BY id');
    expect(rows).toEqual([
      { id: 1, who: "o'brien\\x", note: ':owner in quotes', flag: true },
      { id: 2, who: ':owner in dollar quotes', note: "':owner", flag: false },
      { id: 4, who: null, note: '{b,c}', flag: true },
      { id: 5, who: "hello, o'brien\\x!", note: 'My "Tab"le', flag: false },
      { id: 6, who: "hello, o'brien\\x!", note: '{x,y}', flag: true },
    ]);
    expect(await query(inprocess, 'SELECT owner_f() AS f')).toEqual([{ f: ':owner:owner' }]);
    expect(await dumpSchemaAndData(inprocess)).toBe(await dumpSchemaAndData(psql));
  });

  it("psql's automatic variables have the values psql gives them for the database being built", async () => {
    const sql = "CREATE TABLE auto AS SELECT :'DBNAME' = current_database() AS dbname_is_this_database, :'USER' AS usr, :'HOST' AS host, :'PORT' AS port, :'ENCODING' AS enc, :'SERVER_VERSION_NUM' AS num, :'SERVER_VERSION_NAME' AS vname, :'ON_ERROR_STOP' AS stop, :'VERBOSITY' AS verbosity, :'AUTOCOMMIT' AS ac, :'QUIET' AS quiet;\n";
    const { inprocess, psql } = await runBoth(sql, {});
    const mine = await query(inprocess, 'SELECT * FROM auto');
    expect(mine).toEqual(await query(psql, 'SELECT * FROM auto'));
    expect(mine[0]).toMatchObject({ dbname_is_this_database: true, num: (await query<{ server_version_num: string }>(inprocess, 'SHOW server_version_num'))[0]?.server_version_num });
  });

  it('config variables reach the psql runner too, and a variable the file does not define is left as psql leaves it', async () => {
    const file = scratchFile('undefined.sql', 'CREATE TABLE t (id int);\nINSERT INTO t VALUES (:undefined_one);\n');
    for (const runner of ['inprocess', 'psql'] as const) {
      const { target } = await freshTarget();
      const error = await failure(runFiles([file], { target, runner, pgBinDir }));
      expect(error.message.split('\n')[0]).toBe('db/undefined.sql:2:23: syntax error at or near ":"');
    }
    for (const runner of ['inprocess', 'psql'] as const) {
      const defined = await freshTarget();
      await runFiles([file], { target: defined.target, runner, pgBinDir, variables: { undefined_one: '7' } });
      expect(await query(defined.url, 'SELECT id FROM t')).toEqual([{ id: 7 }]);
    }
  });

  it('\\if, \\gset and variables only psql can know are refused in-process, naming file:line, with the psql-runner hint, before anything runs', async () => {
    const { url, target } = await freshTarget();
    const cases: Array<[string, string]> = [
      ['CREATE TABLE early (id int);\n\\if :{?owner}\nSELECT 1;\n\\endif\n', 'db/if.sql:2: psql meta-command \\if cannot run in-process'],
      ['CREATE TABLE early (id int);\nSELECT 1 AS one \\gset\n', 'db/gset.sql:2: psql meta-command \\gset in the middle of a statement cannot run in-process'],
      ['CREATE TABLE early (id int);\nSELECT 1;\nINSERT INTO early VALUES (:ROW_COUNT);\n', 'db/rowcount.sql:3:27: :ROW_COUNT is set by psql after each query; the in-process runner cannot give its value'],
      ["CREATE TABLE early (id int);\n\\set v `echo hi`\n", 'db/backtick.sql:2: \\set with a `shell command` cannot run in-process'],
    ];
    for (const [sql, message] of cases) {
      const name = message.slice(3, message.indexOf(':'));
      const error = await failure(runFiles([scratchFile(name, sql)], { target }));
      expect(error.message).toBe(message);
      expect(error.hint).toMatch(PSQL_HINT);
    }
    expect(await query(url, "SELECT to_regclass('early') AS t")).toEqual([{ t: null }]);
  });
});
