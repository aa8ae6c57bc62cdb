import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { runFiles } from '../../src/sql/index.js';
import { query } from '../support/db.js';
import { failure, fixture, freshTarget } from '../support/sql.js';

const pgBinDir = inject('pgBinDir') || undefined;

async function runError(relativePath: string, batchChars?: number) {
  const { url, target } = await freshTarget();
  const error = await failure(runFiles([fixture(relativePath)], { target, ...(batchChars ? { batchChars } : {}) }));
  return { error, url, lines: error.message.split('\n') };
}

describe('errors point at the source (in-process)', () => {
  it('a syntax error on line 42: file:line:column, the line, a caret, SQLSTATE; the file rolled back', async () => {
    const { error, url, lines } = await runError('errors/syntax.sql');
    expect(error.code).toBe('SQL_ERROR');
    expect(lines[0]).toBe('errors/syntax.sql:42:8: syntax error at or near "TABL"');
    expect(lines[1]).toBe('42 | CREATE TABL oops (id int);');
    expect(lines[2]).toBe('   |        ^');
    expect(error.details).toMatchObject({ file: 'errors/syntax.sql', line: 42, column: 8, sqlState: '42601', includedFrom: [] });
    expect(await query(url, "SELECT to_regclass('filler_02') AS t")).toEqual([{ t: null }]);
  });

  it('a missing relation in a multi-line statement: the line and column of the name', async () => {
    const { error, lines } = await runError('errors/missing.sql');
    expect(lines[0]).toBe('errors/missing.sql:5:10: relation "absent" does not exist');
    expect(lines[1]).toBe('5 |   JOIN   absent a ON a.id = p.id;');
    expect(lines[2]).toBe('  |          ^');
    expect(error.details).toMatchObject({ line: 5, column: 10, sqlState: '42P01' });
  });

  for (const batchChars of [undefined, 60]) {
    it(`a constraint violation (no position): the failing statement found from the statements the server finished${batchChars ? ' (small batches)' : ''}`, async () => {
      const { error, lines } = await runError('errors/constraint.sql', batchChars);
      expect(lines[0]).toBe('errors/constraint.sql:5:1: duplicate key value violates unique constraint "people_pkey"');
      expect(lines[1]).toBe("5 | INSERT INTO people VALUES (2, 'again');");
      expect(lines).toContain('DETAIL: Key (id)=(2) already exists.');
      expect(error.details).toMatchObject({ line: 5, column: 1, sqlState: '23505', detail: 'Key (id)=(2) already exists.' });
    });
  }

  it('bad COPY data: the data line', async () => {
    const { error, lines } = await runError('errors/copy_data.sql');
    expect(lines[0]).toBe('errors/copy_data.sql:5:1: invalid input syntax for type numeric: "not-a-number"');
    expect(lines[1]).toBe('5 | 3\tnot-a-number');
    expect(error.details).toMatchObject({ line: 5, sqlState: '22P02' });
    expect(String(error.details?.where)).toMatch(/^COPY measures, line 3/);
  });

  it("an error raised inside a trigger function: the statement that fired it, with the server's hint and context", async () => {
    const { error, lines } = await runError('errors/function_body.sql');
    expect(lines[0]).toBe('errors/function_body.sql:11:1: negative id -1');
    expect(error.hint).toBe('use positive ids');
    expect(error.details).toMatchObject({ line: 11, sqlState: 'P0001', serverHint: 'use positive ids' });
    expect(String(error.details?.where)).toMatch(/PL\/pgSQL function check_id\(\) line 4 at RAISE/);
  });

  it('an error inside a DO block: the body line it names', async () => {
    const { error, lines } = await runError('errors/do_block.sql');
    expect(lines[0]).toBe('errors/do_block.sql:6:3: division by zero');
    expect(lines[1]).toBe('6 |   n := 1 / n;');
    expect(error.details).toMatchObject({ line: 6, column: 3, sqlState: '22012' });
  });

  it('an error in a \\i-included file points at the included file, and says where it was included', async () => {
    const { error, lines } = await runError('errors/includes_bad.sql');
    expect(lines[0]).toBe('errors/parts/bad_part.sql:2:40: relation "no_such_table" does not exist');
    expect(lines).toContain('(included from errors/includes_bad.sql:2)');
    expect(error.details).toMatchObject({ file: 'errors/parts/bad_part.sql', line: 2, column: 40, includedFrom: ['errors/includes_bad.sql:2'] });
  });

  it('counts columns in characters (emoji included) and cuts a long line around the caret', async () => {
    const { error, lines } = await runError('errors/long_line.sql');
    expect(lines[0]).toBe('errors/long_line.sql:2:96: column "nope_column" does not exist');
    expect(lines[1]).toMatch(/^2 \| … AS second_column, .* nope_column, .*…$/);
    expect(lines[2]?.indexOf('^')).toBe(lines[1]?.indexOf('nope_column'));
    expect(error.details).toMatchObject({ line: 2, column: 96, sqlState: '42703' });
  });

  it('carries the location and server fields into JSON', async () => {
    const { error } = await runError('errors/constraint.sql');
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({
      code: 'SQL_ERROR',
      details: {
        file: 'errors/constraint.sql',
        line: 5,
        column: 1,
        sqlState: '23505',
        detail: 'Key (id)=(2) already exists.',
        serverHint: null,
        where: null,
      },
    });
  });
});

describe('a statement cancelled while it runs names the file and line that was running', () => {
  for (const runner of ['inprocess', 'psql'] as const) {
    it(`a cancel of the second file's slow statement (batched with the first file's) names that file (${runner})`, async () => {
      const { url, target } = await freshTarget();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-cancel-'));
      try {
        const write = (name: string, text: string): { relativePath: string; absolutePath: string } => {
          writeFileSync(path.join(dir, name), text);
          return { relativePath: `1_seed_common/${name}`, absolutePath: path.join(dir, name) };
        };
        const items = write('001_items.sql', 'CREATE TABLE items (id int);\nINSERT INTO items VALUES (1);\nINSERT INTO items VALUES (2);\n');
        // Long enough that only the cancel ends it; re-running it to locate the failure would outlast the test.
        const slow = write('002_slow.sql', "SELECT 1;\n\nSELECT pg_sleep(600) AS slow_for_the_cancel_test;\n");
        const running = failure(runFiles([items, slow], { target, runner, pgBinDir }));
        const database = new URL(url).pathname.slice(1);
        let cancelled = false;
        while (!cancelled) {
          const rows = await query<{ cancelled: boolean }>(url, "SELECT pg_cancel_backend(pid) AS cancelled FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND strpos(query, 'slow_for_the_cancel_test') > 0 AND pid <> pg_backend_pid()", [database]);
          cancelled = rows.some((row) => row.cancelled);
          if (!cancelled) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const error = await running;
        expect(error.message).toMatch(/^1_seed_common\/002_slow\.sql:3:1: canceling statement due to user request/);
        expect(error.details).toMatchObject({ file: '1_seed_common/002_slow.sql', line: 3 });
        expect(error.hint).toMatch(/^The statement was cancelled/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
