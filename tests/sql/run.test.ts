import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runFiles, runFile, runSqlText, type RunFilesOptions } from '../../src/sql/index.js';
import { query } from '../support/db.js';
import { expectTrickyResults, failure, fixture, freshTarget, TRICKY } from '../support/sql.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'dbfast-sql-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, content: string | Buffer): { relativePath: string; absolutePath: string } {
  const absolutePath = path.join(scratch, name);
  writeFileSync(absolutePath, content);
  return { relativePath: name, absolutePath };
}

describe('runFiles in-process', () => {
  for (const transaction of ['single', 'none'] as const) {
    it(`runs dollar quotes, nested comments, E-strings, COPY escapes, unicode, DO, BEGIN ATOMIC, BEGIN/COMMIT, CONCURRENTLY (transaction ${transaction})`, async () => {
      const { url, target } = await freshTarget();
      // Created and committed beforehand, so ADD VALUE + use in one transaction would fail: the runner must commit between.
      await query(url, "CREATE TYPE public.mood AS ENUM ('sad', 'ok')");
      const result = await runFiles(TRICKY, { target, transaction });
      expect(result).toMatchObject({ files: 3, statements: 27, copyRows: 5 });
      expect(result.roundTrips).toBeLessThan(result.statements);
      await expectTrickyResults(url);
    });
  }

  it('runs CRLF files, COPY data included, without carriage returns in the data', async () => {
    const { url, target } = await freshTarget();
    const file = scratchFile('crlf.sql', 'CREATE TABLE t (a int, b text);\r\nCOPY t FROM stdin;\r\n1\tx\r\n2\t\\N\r\n\\.\r\nINSERT INTO t\r\n  VALUES (3, \'z\');\r\n');
    const result = await runFiles([file], { target });
    expect(result.copyRows).toBe(2);
    expect(await query(url, 'SELECT a, b FROM t ORDER BY a')).toEqual([{ a: 1, b: 'x' }, { a: 2, b: null }, { a: 3, b: 'z' }]);
  });

  it('streams a COPY block larger than one chunk, with multi-byte text across chunk boundaries', async () => {
    const { url, target } = await freshTarget();
    const rows = 60_000;
    const lines: string[] = [];
    for (let i = 1; i <= rows; i++) lines.push(`${i}\tzeile-ü-€-😀-${'x'.repeat(i % 17)}`);
    const file = scratchFile('big.sql', `CREATE TABLE big (id int, t text);\nCOPY big FROM stdin;\n${lines.join('\n')}\n\\.\n`);
    const result = await runFiles([file], { target });
    expect(result.copyRows).toBe(rows);
    expect(await query(url, "SELECT count(*)::int AS n, sum(id)::bigint AS s, bool_and(t LIKE 'zeile-ü-€-😀-%') AS ok FROM big")).toEqual([
      { n: rows, s: String((rows * (rows + 1)) / 2), ok: true },
    ]);
  });

  it('splits into several batches when they fill up, across file boundaries', async () => {
    const { url, target } = await freshTarget();
    const inserts = Array.from({ length: 30 }, (_, i) => `INSERT INTO n VALUES (${i});`).join('\n');
    const first = scratchFile('batch1.sql', `CREATE TABLE n (i int);\n${inserts}\nSELECT 1 -- no semicolon at the end`);
    const second = scratchFile('batch2.sql', 'INSERT INTO n VALUES (100);\n');
    const result = await runFiles([first, second], { target, batchChars: 200 });
    expect(result.statements).toBe(33);
    expect(result.roundTrips).toBeGreaterThan(3);
    expect(result.roundTrips).toBeLessThan(33);
    expect(await query(url, 'SELECT count(*)::int AS n, max(i) AS m FROM n')).toEqual([{ n: 31, m: 100 }]);
  });

  it("uses the caller's client and leaves it idle and usable after a failure", async () => {
    const { url, target } = await freshTarget();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const options: RunFilesOptions = { target, client };
      const error = await failure(runFiles([fixture('errors/constraint.sql')], options));
      expect(error.code).toBe('SQL_ERROR');
      expect(client.getTransactionStatus()).toBe('I');
      // The single transaction was rolled back: nothing of the failed file is left.
      expect((await client.query("SELECT to_regclass('people') AS t")).rows).toEqual([{ t: null }]);
      await runFiles([scratchFile('after.sql', 'CREATE TABLE after_failure (id int);')], options);
      expect((await client.query("SELECT to_regclass('after_failure')::text AS t")).rows).toEqual([{ t: 'after_failure' }]);
    } finally {
      await client.end();
    }
  });
});

describe('runFile / runSqlText (one file on a given client)', () => {
  it("runs inside the caller's transaction, locates a failure there, and leaves the rollback to the caller", async () => {
    const { url } = await freshTarget();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('BEGIN');
      const stats = await runFile(client, scratchFile('mig1.sql', 'CREATE TABLE m (id int PRIMARY KEY);\nINSERT INTO m VALUES (1), (2);'));
      expect(stats).toMatchObject({ statements: 2 });
      const sql = 'INSERT INTO m VALUES (3);\nINSERT INTO m VALUES (4);\nINSERT INTO m VALUES (1);\nINSERT INTO m VALUES (5);\n';
      const error = await failure(runSqlText(client, sql, { relativePath: 'db/6_migration/002_more.sql' }));
      expect(error.message.split('\n')[0]).toBe('db/6_migration/002_more.sql:3:1: duplicate key value violates unique constraint "m_pkey"');
      await expect(client.query('SELECT 1')).rejects.toThrow(/current transaction is aborted/);
      await client.query('ROLLBACK');
      expect((await client.query("SELECT to_regclass('m') AS t")).rows).toEqual([{ t: null }]);
    } finally {
      await client.end();
    }
  });

  it('runs statements as sent by default (autocommit), so ADD VALUE then use works across batches', async () => {
    const { url } = await freshTarget();
    await query(url, "CREATE TYPE color AS ENUM ('red')");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const sql = "CREATE TABLE paint (c color);\nALTER TYPE color ADD VALUE 'blue';\nINSERT INTO paint VALUES ('blue');\nINSERT INTO paint VALUES ('red');\n";
      const stats = await runSqlText(client, sql, { relativePath: 'paint.sql' });
      expect(stats.statements).toBe(4);
      expect(client.getTransactionStatus()).toBe('I');
    } finally {
      await client.end();
    }
    expect(await query(url, 'SELECT c::text FROM paint ORDER BY paint.c')).toEqual([{ c: 'red' }, { c: 'blue' }]);
  });
});

describe('transactions the files open themselves', () => {
  it('refuses files that BEGIN and never COMMIT, naming the BEGIN, and rolls that work back', async () => {
    const { url, target } = await freshTarget();
    const first = scratchFile('open1.sql', 'CREATE TABLE kept (id int);\nBEGIN;\nCREATE TABLE lost (id int);\n');
    const second = scratchFile('open2.sql', 'INSERT INTO lost VALUES (1);\n');
    const error = await failure(runFiles([first, second], { target }));
    expect(error.code).toBe('SQL_OPEN_TRANSACTION');
    expect(error.message).toMatch(/^open1\.sql:2: BEGIN; starts a transaction that open1\.sql never ends/);
    expect(await query(url, "SELECT to_regclass('kept')::text AS kept, to_regclass('lost')::text AS lost")).toEqual([{ kept: 'kept', lost: null }]);
  });
});
