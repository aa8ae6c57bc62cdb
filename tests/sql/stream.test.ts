import { execFile } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runFiles } from '../../src/sql/index.js';
import { query } from '../support/db.js';
import { expectTrickyResults, failure, fixture, freshTarget, TRICKY } from '../support/sql.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'dbfast-stream-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const MEMORY_CHILD = fileURLToPath(new URL('../support/memory-child.ts', import.meta.url));

/** Writes `lines()` to a file without holding it in memory. */
async function writeLines(file: string, lines: () => Generator<string>): Promise<void> {
  const out = createWriteStream(file);
  let batch: string[] = [];
  for (const line of lines()) {
    batch.push(line);
    if (batch.length >= 5000) {
      if (!out.write(batch.join(''))) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      batch = [];
    }
  }
  out.write(batch.join(''));
  await new Promise((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve(undefined))));
}

describe('the in-process runner streams files', () => {
  it('holds a bounded amount of memory however large the file (72 MB of COPY data and 100,000 single-row INSERTs)', async () => {
    const { url } = await freshTarget();
    const file = path.join(scratch, 'big.sql');
    const copyRows = 900_000;
    const inserts = 100_000;
    await writeLines(file, function* () {
      yield 'CREATE UNLOGGED TABLE copied (id int, payload text);\nCOPY copied FROM stdin;\n';
      for (let i = 1; i <= copyRows; i++) yield `${i}\t${'p'.repeat(72)}-ü\n`;
      yield '\\.\nCREATE UNLOGGED TABLE inserted (id int, payload text);\n';
      for (let i = 1; i <= inserts; i++) yield `INSERT INTO inserted VALUES (${i}, 'row ${i} ${'i'.repeat(40)}');\n`;
    });
    // A process of its own, so its peak resident size is the runner's alone.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', MEMORY_CHILD, url, file], { maxBuffer: 1 << 20 });
    const { result, growthKiB } = JSON.parse(stdout.trim().split('\n').pop() as string) as { result: { copyRows: number; statements: number }; growthKiB: number };
    expect(result).toMatchObject({ copyRows, statements: inserts + 3 });
    expect(await query(url, 'SELECT (SELECT count(*) FROM copied)::int AS c, (SELECT count(*) FROM inserted)::int AS i')).toEqual([{ c: copyRows, i: inserts }]);
    // Holding the file (80 MB) takes at least twice its size (its bytes, and their string view to split) plus the
    // statements: 300 MiB and more before streaming. Streaming holds a window, a batch and what the collector has
    // not yet freed (measured 60-90 MiB whatever the file size).
    expect(growthKiB / 1024).toBeLessThan(150);
  }, 120_000);

  it('names file:line:column exactly for errors far past the first window, in statements and COPY data', async () => {
    const filler = Array.from({ length: 400 }, (_, i) => `INSERT INTO t VALUES (${i}, 'filler ${'f'.repeat(i % 50)}');`).join('\n');
    const copyData = Array.from({ length: 300 }, (_, i) => `${1000 + i}\tcopied ü ${i}`).join('\n');
    const head = `CREATE TABLE t (id int PRIMARY KEY, note text);\n${filler}\nCOPY t FROM stdin;\n${copyData}\n\\.\n`;
    const headLines = head.split('\n').length - 1;
    const cases: Array<{ tail: string; location: string; message: string }> = [
      { tail: "SELECT 1;\nSELECT 'ü😀', nope_column\n  FROM t;\n", location: `${headLines + 2}:14`, message: 'column "nope_column" does not exist' },
      { tail: `INSERT INTO t VALUES (${headLines}, 'x'), (5, 'dup');\n`, location: `${headLines + 1}:1`, message: 'duplicate key value violates unique constraint "t_pkey"' },
      { tail: 'COPY t FROM stdin;\n9001\tfine\n9002\tfine\nnot-a-number\tbad\n\\.\n', location: `${headLines + 4}:1`, message: 'invalid input syntax for type integer: "not-a-number"' },
    ];
    for (const { tail, location, message } of cases) {
      const { target } = await freshTarget();
      const file = path.join(scratch, 'located.sql');
      writeFileSync(file, head + tail);
      const error = await failure(runFiles([{ relativePath: 'db/located.sql', absolutePath: file }], { target, chunkBytes: 4096 }));
      expect(error.message.split('\n')[0]).toBe(`db/located.sql:${location}: ${message}`);
    }
  });

  it('runs the tricky fixtures and includes the same when files are read 64 bytes at a time', async () => {
    const { url, target } = await freshTarget();
    await query(url, "CREATE TYPE public.mood AS ENUM ('sad', 'ok')");
    const result = await runFiles(TRICKY, { target, chunkBytes: 64 });
    expect(result).toMatchObject({ files: 3, statements: 27, copyRows: 5 });
    await expectTrickyResults(url);
    const included = await freshTarget();
    expect(await runFiles([fixture('include/main.sql')], { target: included.target, chunkBytes: 64 })).toMatchObject({ statements: 5 });
    expect(await query(included.url, 'SELECT step FROM inc_log ORDER BY n')).toEqual([{ step: 'one' }, { step: 'two' }, { step: 'three' }, { step: 'main' }]);
  });
});
