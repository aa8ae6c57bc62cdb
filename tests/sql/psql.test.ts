import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runFiles } from '../../src/sql/index.js';
import { query, remote, trackDatabase, uniqueName } from '../support/db.js';
import { expectTrickyResults, failure, fixture, freshTarget, TRICKY } from '../support/sql.js';

const pgBinDir = inject('pgBinDir') || undefined;

async function psqlError(relativePath: string) {
  const { target } = await freshTarget();
  const error = await failure(runFiles([fixture(relativePath)], { target, runner: 'psql', pgBinDir }));
  return { error, lines: error.message.split('\n') };
}

describe('psql runner', () => {
  it('runs the same tricky files as the in-process runner, with the same result', async () => {
    const { url, target } = await freshTarget();
    await query(url, "CREATE TYPE public.mood AS ENUM ('sad', 'ok')");
    const result = await runFiles(TRICKY, { target, runner: 'psql', pgBinDir });
    // psql prints no row counts with -q: copyRows counts data lines, and the CSV row spanning two lines counts twice.
    expect(result).toMatchObject({ files: 3, statements: 27, copyRows: 6, roundTrips: 0 });
    await expectTrickyResults(url);
  });

  it('runs files with meta-commands psql understands (\\set), and names psql\'s own errors by file:line', async () => {
    const { url, target } = await freshTarget();
    await runFiles([fixture('meta/set.sql')], { target, runner: 'psql', pgBinDir });
    expect(await query(url, 'SELECT count(*)::int AS n FROM before_meta')).toEqual([{ n: 2 }]);
    // psql resolves \\i against its working directory (the top file's folder), not the including file's: found before psql starts.
    const error = await failure(runFiles([fixture('include/main.sql')], { target, runner: 'psql', pgBinDir }));
    expect(error.code).toBe('SQL_INCLUDE_MISSING');
    expect(error.message).toBe('include/parts/two.sql:2: \\include three file.sql: cannot read include/three file.sql (ENOENT) (included from include/parts/one.sql:2, from include/main.sql:2)');
  });

  it('maps psql errors to the same file:line:column, caret and SQLSTATE', async () => {
    const missing = await psqlError('errors/missing.sql');
    expect(missing.lines.slice(0, 3)).toEqual([
      'errors/missing.sql:5:10: relation "absent" does not exist',
      '5 |   JOIN   absent a ON a.id = p.id;',
      '  |          ^',
    ]);
    expect(missing.error.details).toMatchObject({ file: 'errors/missing.sql', line: 5, column: 10, sqlState: '42P01' });

    const syntax = await psqlError('errors/syntax.sql');
    expect(syntax.lines[0]).toBe('errors/syntax.sql:42:8: syntax error at or near "TABL"');

    const constraint = await psqlError('errors/constraint.sql');
    expect(constraint.lines[0]).toBe('errors/constraint.sql:5:1: duplicate key value violates unique constraint "people_pkey"');
    expect(constraint.error.details).toMatchObject({ sqlState: '23505', detail: 'Key (id)=(2) already exists.' });
  });

  it('maps COPY data errors, DO block errors and errors in included files', async () => {
    const copy = await psqlError('errors/copy_data.sql');
    expect(copy.lines[0]).toBe('errors/copy_data.sql:5:1: invalid input syntax for type numeric: "not-a-number"');
    const block = await psqlError('errors/do_block.sql');
    expect(block.lines[0]).toBe('errors/do_block.sql:6:3: division by zero');
    // psql shows a long line cut to a window with "...": the column still comes out right.
    const long = await psqlError('errors/long_line.sql');
    expect(long.lines[0]).toBe('errors/long_line.sql:2:96: column "nope_column" does not exist');
    const included = await psqlError('errors/includes_bad.sql');
    expect(included.lines[0]).toBe('errors/parts/bad_part.sql:2:40: relation "no_such_table" does not exist');
  });

  it('connects with the password from the target, through the environment (scram over TCP)', async () => {
    const role = uniqueName('psql_role');
    const database = uniqueName('psql_db');
    const password = `pw-${role}`;
    await query(remote.adminUrl, `CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
    await query(remote.adminUrl, `CREATE DATABASE "${database}" OWNER "${role}"`);
    trackDatabase(remote, database);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-psql-'));
    try {
      writeFileSync(path.join(dir, 'one.sql'), 'CREATE TABLE owned (id int);\nINSERT INTO owned VALUES (7);\n');
      const url = `postgresql://${role}@${inject('remoteTcpHost')}:${inject('remoteTcpPort')}/${database}`;
      const file = { relativePath: 'one.sql', absolutePath: path.join(dir, 'one.sql') };
      await runFiles([file], { target: { url, password }, runner: 'psql', pgBinDir });
      const wrong = await failure(runFiles([file], { target: { url, password: 'wrong' }, runner: 'psql', pgBinDir }));
      expect(wrong.code).toBe('SQL_PSQL_FAILED');
      expect(wrong.message).toMatch(/password authentication failed/);
      expect(wrong.message).not.toContain(password);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const rows = await query(remote.adminUrl.replace(/\/postgres\?/, `/${database}?`), 'SELECT id FROM owned');
    expect(rows).toEqual([{ id: 7 }]);
    await query(remote.adminUrl, `DROP DATABASE "${database}" WITH (FORCE)`);
    await query(remote.adminUrl, `DROP ROLE "${role}"`);
  });
});
