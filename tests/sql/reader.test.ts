import { describe, expect, it } from 'vitest';
import { SqlReader, type ReadItem } from '../../src/sql/reader.js';
import { splitSql, type SqlItem } from '../../src/sql/index.js';

/** A seeded random generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const PIECES = [
  "SELECT 'a;b' AS x;",
  "INSERT INTO t VALUES (1, 'it''s; fine', E'back\\\\slash\\'q');",
  'CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql;',
  'SELECT $$;$$, $a$ $$ ; $a$;',
  '/* block; /* nested; */ still */ SELECT 2;',
  '-- a comment; with \'quote\'\nSELECT 3;',
  'SELECT "we;""ird" FROM "tä;ble";',
  'CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; SELECT 2; END;',
  '\\set x 1',
  '\\i other.sql',
  'SELECT 1 -- no semicolon, then a meta-command\n\\gexec',
  "COPY t (a, b) FROM stdin;\n1\tx\n2\t\\N\n3\tü😀\n\\.",
  'COPY t FROM stdin;\n\\.',
  'COPY t FROM stdin; -- a comment\r\nα\tβ\r\n\\.\r',
  "SELECT 'naïve ☃' AS snow;",
  'SELECT (1,\n(2;\n3));',
];

function randomSql(random: () => number, pieces: number): string {
  const parts: string[] = [];
  for (let i = 0; i < pieces; i++) {
    parts.push(PIECES[Math.floor(random() * PIECES.length)] as string);
    parts.push(random() < 0.3 ? '  ' : random() < 0.5 ? '\n' : '\r\n');
  }
  return parts.join('');
}

/** What is compared: each item's kind, text, position, and for COPY its data and end. */
function describeSplit(item: SqlItem, buf: Buffer): unknown {
  if (item.kind === 'statement') return ['statement', item.text, item.line, item.column, item.endLine, item.words, item.terminated, item.unclosed];
  if (item.kind === 'meta') return ['meta', item.command, item.args, item.line, item.column, item.midStatement];
  const s = item.statement;
  return ['copy', s.text, s.line, s.column, item.dataLine, buf.toString('utf8', item.dataStart, item.dataEnd), item.dataLines, item.endLine, item.terminated, item.sameLineText];
}

async function describeRead(item: ReadItem): Promise<unknown> {
  if (item.kind !== 'copy') return describeSplit(item, Buffer.alloc(0));
  const parts: Buffer[] = [];
  for await (const piece of item.data) parts.push(piece);
  const s = item.statement;
  const end = item.end;
  return ['copy', s.text, s.line, s.column, item.dataLine, Buffer.concat(parts).toString('utf8'), end?.dataLines, end?.endLine, end?.terminated, item.sameLineText];
}

async function readAll(buf: Buffer, chunkBytes: number): Promise<unknown[]> {
  const reader = await SqlReader.open('(memory)', buf, chunkBytes);
  const out: unknown[] = [];
  for await (const item of reader.items()) out.push(await describeRead(item));
  return out;
}

describe('SqlReader: reading a window at a time gives exactly what splitSql gives on the whole text', () => {
  it('on generated SQL, for every window size, with and without a byte-order mark and a trailing statement', async () => {
    const random = rng(7);
    for (let round = 0; round < 40; round++) {
      let sql = randomSql(random, 5 + Math.floor(random() * 40));
      if (round % 5 === 0) sql = `\ufeff${sql}`;
      if (round % 3 === 0) sql += 'SELECT 4 -- no semicolon at the end';
      if (round % 7 === 0) sql += "\nCOPY t FROM stdin;\n1\n2"; // unterminated COPY at the end
      const buf = Buffer.from(sql, 'utf8');
      const whole = splitSql(buf).map((item) => describeSplit(item, buf));
      for (const chunkBytes of [64, 97, 256, 1000, 1 << 20]) {
        expect(await readAll(buf, chunkBytes), `round ${round}, chunk ${chunkBytes}`).toEqual(whole);
      }
    }
  });

  it('streams a COPY block much larger than the window in pieces, counting its lines and bytes', async () => {
    const rows = Array.from({ length: 5000 }, (_, i) => `${i}\tzeile-ü-${'x'.repeat(i % 13)}`);
    const sql = `CREATE TABLE t (a int, b text);\nCOPY t FROM stdin;\n${rows.join('\n')}\n\\.\nSELECT 'after';\n`;
    const reader = await SqlReader.open('(memory)', Buffer.from(sql), 4096);
    const seen: unknown[] = [];
    let pieces = 0;
    for await (const item of reader.items()) {
      if (item.kind === 'copy') {
        const parts: Buffer[] = [];
        for await (const piece of item.data) {
          pieces++;
          expect(piece.length).toBeLessThanOrEqual(8192);
          parts.push(piece);
        }
        expect(Buffer.concat(parts).toString('utf8')).toBe(`${rows.join('\n')}\n`);
        seen.push(['copy', item.dataLine, item.end]);
      } else if (item.kind === 'statement') {
        seen.push([item.text, item.line]);
      }
    }
    expect(pieces).toBeGreaterThan(10);
    expect(seen).toEqual([
      ['CREATE TABLE t (a int, b text);', 1],
      ['copy', 3, { terminated: true, dataLines: 5000, dataBytes: Buffer.byteLength(`${rows.join('\n')}\n`), endLine: 5003 }],
      ["SELECT 'after';", 5004],
    ]);
  });
});
