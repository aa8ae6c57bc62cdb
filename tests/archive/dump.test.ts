import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompressor, createDecompressor } from '../../src/archive/compression.js';
import { dumpDatabase } from '../../src/archive/dump.js';
import { listArchive, readArchive } from '../../src/archive/read.js';
import { restoreArchive } from '../../src/archive/restore.js';
import { restoreInTransaction, ScriptFramer } from '../../src/archive/transaction-restore.js';
import { Lz4FrameDecoder, Lz4FrameEncoder } from '../../src/archive/lz4-frame.js';
import { targetFromUrl } from '../../src/pg/target.js';
import { freshDatabase, local, query } from '../support/db.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-dump-test-'));
let source: { name: string; url: string };

beforeAll(async () => {
  source = await freshDatabase(local, 'dumpsrc');
  await query(
    source.url,
    `CREATE TABLE item (id int PRIMARY KEY, label text NOT NULL);
     INSERT INTO item SELECT g, 'item ' || g FROM generate_series(1, 5000) g;
     CREATE TABLE note (id serial PRIMARY KEY, item_id int REFERENCES item(id), body text);
     INSERT INTO note (item_id, body) SELECT 1 + g % 5000, repeat('n', g % 100) FROM generate_series(1, 2000) g;`,
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function counts(url: string): Promise<{ items: number; notes: number; sum: number }> {
  const [row] = await query<{ items: string; notes: string; sum: string }>(
    url,
    'SELECT (SELECT count(*) FROM item) AS items, (SELECT count(*) FROM note) AS notes, (SELECT sum(length(body)) FROM note) AS sum',
  );
  return { items: Number(row?.items), notes: Number(row?.notes), sum: Number(row?.sum) };
}

describe('dumpDatabase / listArchive / readArchive / restoreArchive', () => {
  for (const compression of ['zstd', 'lz4', 'gzip', 'none'] as const) {
    it(`round-trips a database through a ${compression} file`, async () => {
      const file = path.join(dir, `round.${compression}`);
      const dump = await dumpDatabase(targetFromUrl(source.url), file, { compression });
      expect(dump.sizeBytes).toBe(readFileSync(file).length);
      expect(dump.rawBytes).toBeGreaterThan(0);
      if (compression !== 'none') expect(dump.sizeBytes).toBeLessThan(dump.rawBytes);
      const listing = await listArchive(file, { compression });
      expect(listing.sha256).toBe(dump.sha256);
      expect(listing.header.dbname).toBe(source.name);
      expect(listing.entries.filter((e) => e.kind === 'TABLE DATA').map((e) => e.description)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^TABLE DATA public item /), expect.stringMatching(/^TABLE DATA public note /)]),
      );
      const read = await readArchive(file, { compression });
      expect(read).toEqual({ sizeBytes: dump.sizeBytes, sha256: dump.sha256, rawBytes: dump.rawBytes });
      const into = await freshDatabase(local, 'dumpdst');
      await restoreArchive(targetFromUrl(into.url), file, { compression });
      expect(await counts(into.url)).toEqual(await counts(source.url));
    });
  }

  it('dumps into a stream and restores from a stream', async () => {
    const out = new PassThrough();
    const collected = collect(out);
    const dump = await dumpDatabase(targetFromUrl(source.url), out, { compression: 'gzip' });
    const bytes = await collected;
    expect(bytes.length).toBe(dump.sizeBytes);
    const into = await freshDatabase(local, 'dumpdst');
    await restoreArchive(targetFromUrl(into.url), Readable.from([bytes]), { compression: 'gzip' });
    expect(await counts(into.url)).toEqual(await counts(source.url));
  });

  it('restores with parallel jobs from a compressed file via a temporary copy it removes', async () => {
    const file = path.join(dir, 'jobs.zst');
    await dumpDatabase(targetFromUrl(source.url), file, { compression: 'zstd' });
    const into = await freshDatabase(local, 'dumpdst');
    const result = await restoreArchive(targetFromUrl(into.url), file, { compression: 'zstd', jobs: 2 });
    expect(result.jobs).toBe(2);
    expect(result.rawBytes).toBeGreaterThan(0);
    expect(await counts(into.url)).toEqual(await counts(source.url));
    expect(readdirSync(dir).filter((f) => f.includes('dbfast-restore'))).toEqual([]);
    await expect(restoreArchive(targetFromUrl(into.url), file, { compression: 'zstd', jobs: 2, singleTransaction: true })).rejects.toMatchObject({
      code: 'RESTORE_OPTIONS',
      exitCode: 2,
    });
  });

  it('never overwrites an existing file, and leaves it as it was', async () => {
    const file = path.join(dir, 'exists.dump');
    writeFileSync(file, 'precious');
    await expect(dumpDatabase(targetFromUrl(source.url), file, { compression: 'none' })).rejects.toMatchObject({ code: 'DUMP_FILE_UNWRITABLE' });
    expect(readFileSync(file, 'utf8')).toBe('precious');
  });

  it('removes its file when pg_dump fails, and says what pg_dump said', async () => {
    const file = path.join(dir, 'missing-db.dump');
    const target = targetFromUrl(source.url);
    // A snapshot that does not exist makes pg_dump fail after the file was opened.
    const error = await dumpDatabase(target, file, { compression: 'zstd', snapshot: '00000003-0000DEAD-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PG_DUMP_FAILED' });
    expect((error as Error).message).toMatch(/pg_dump exited with code 1:\n.*snapshot/);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses early, with the version needed, when pg_dump is older than the server', async () => {
    const bin = mkdtempSync(path.join(dir, 'oldbin-'));
    writeFileSync(path.join(bin, 'pg_dump'), '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n');
    chmodSync(path.join(bin, 'pg_dump'), 0o755);
    const file = path.join(dir, 'old.dump');
    const error = await dumpDatabase(targetFromUrl(source.url), file, { pgBinDir: bin }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOOL_TOO_OLD', exitCode: 2 });
    expect((error as Error).message).toMatch(/pg_dump 9\.6 cannot work with a PostgreSQL \d+ server; pg_dump \d+ or newer is needed/);
    expect(existsSync(file)).toBe(false);
  });
});

describe('restoreInTransaction', () => {
  it('runs before/after SQL in the same transaction, and a failing check rolls all of it back', async () => {
    const file = path.join(dir, 'tx.lz4');
    await dumpDatabase(targetFromUrl(source.url), file, { compression: 'lz4' });
    const into = await freshDatabase(local, 'dumptx');
    await query(into.url, 'CREATE TABLE untouched (x int); INSERT INTO untouched VALUES (42)');
    const target = targetFromUrl(into.url);
    const failing = restoreInTransaction(target, file, {
      compression: 'lz4',
      before: 'DROP TABLE untouched;',
      after: "DO $$ BEGIN RAISE EXCEPTION 'check failed on purpose'; END $$;",
    });
    await expect(failing).rejects.toThrow(/rolled back[\s\S]*check failed on purpose/);
    expect(await query(into.url, "SELECT to_regclass('public.item') AS t, (SELECT x FROM untouched) AS x")).toEqual([{ t: null, x: 42 }]);

    await restoreInTransaction(target, file, { compression: 'lz4', before: 'DROP TABLE untouched;', after: 'SELECT 1;' });
    expect(await counts(into.url)).toEqual(await counts(source.url));
    expect(await query(into.url, "SELECT to_regclass('public.untouched') AS t")).toEqual([{ t: null }]);
  });

  it('rolls back when the archive is cut short', async () => {
    const file = path.join(dir, 'tx-full.dump');
    await dumpDatabase(targetFromUrl(source.url), file, { compression: 'none' });
    const cut = path.join(dir, 'tx-cut.dump');
    const bytes = readFileSync(file);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.8)));
    const into = await freshDatabase(local, 'dumptx');
    await query(into.url, 'CREATE TABLE untouched (x int)');
    await expect(restoreInTransaction(targetFromUrl(into.url), cut, { before: 'DROP TABLE untouched;' })).rejects.toThrow(/rolled back/);
    expect(await query(into.url, "SELECT to_regclass('public.untouched')::text AS t, to_regclass('public.item') AS i")).toEqual([{ t: 'untouched', i: null }]);
  });
});

describe('stream framing', () => {
  const data = Buffer.concat(Array.from({ length: 300 }, (_, i) => Buffer.from(`row ${i} ${String(i * 7919).repeat(i % 50)}\n`.repeat(60))));

  async function through(input: Buffer, ...stages: NodeJS.ReadWriteStream[]): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, cb) => (chunks.push(chunk), cb()) });
    // Small chunks, so blocks and headers straddle chunk boundaries.
    const pieces = Array.from({ length: Math.ceil(input.length / 1000) }, (_, i) => input.subarray(i * 1000, (i + 1) * 1000));
    await pipeline(Readable.from(pieces), ...(stages as [NodeJS.ReadWriteStream]), sink);
    return Buffer.concat(chunks);
  }

  it('lz4: round-trips many blocks fed in small chunks', async () => {
    expect(data.length).toBeGreaterThan(1024 * 1024);
    const packed = await through(data, new Lz4FrameEncoder());
    expect(packed.subarray(0, 4).toString('latin1')).toBe('DFL4');
    expect((await through(packed, new Lz4FrameDecoder())).equals(data)).toBe(true);
  });

  it('lz4: a cut, a bad marker or trailing bytes are errors, not shorter output', async () => {
    const packed = await through(data, new Lz4FrameEncoder());
    await expect(through(packed.subarray(0, packed.length - 8), new Lz4FrameDecoder())).rejects.toThrow(/truncated/);
    await expect(through(packed.subarray(0, packed.length - 20000), new Lz4FrameDecoder())).rejects.toThrow(/truncated/);
    const badMarker = Buffer.from(packed);
    badMarker[0] = 0;
    await expect(through(badMarker, new Lz4FrameDecoder())).rejects.toThrow(/no block marker at byte 0/);
    await expect(through(Buffer.concat([packed, Buffer.from('junk-junk')]), new Lz4FrameDecoder())).rejects.toThrow(/after its end-of-stream marker/);
  });

  for (const compression of ['zstd', 'gzip'] as const) {
    it(`${compression}: a cut stream is an error`, async () => {
      const packed = await through(data, createCompressor(compression));
      expect((await through(packed, createDecompressor(compression))).equals(data)).toBe(true);
      await expect(through(packed.subarray(0, packed.length - 10), createDecompressor(compression))).rejects.toThrow();
    });
  }

  it('ScriptFramer puts SQL after BEGIN and before the final COMMIT, and refuses a script without COMMIT', async () => {
    const script = Buffer.from('-- head\n\nBEGIN;\n\nCREATE TABLE a ();\nCOPY a FROM stdin;\n\\.\n\nCOMMIT;\n\n-- done\n');
    const framed = (await through(script, new ScriptFramer('-- BEFORE', '-- AFTER'))).toString();
    expect(framed).toBe('-- head\n\nBEGIN;\n\n-- BEFORE\n\nCREATE TABLE a ();\nCOPY a FROM stdin;\n\\.\n\n-- AFTER\nCOMMIT;\n\n-- done\n');
    await expect(through(Buffer.from('-- x\nBEGIN;\nCREATE TABLE a ();\n'), new ScriptFramer('', ''))).rejects.toThrow(/without its COMMIT/);
    await expect(through(Buffer.from('CREATE TABLE a ();\n'), new ScriptFramer('', ''))).rejects.toThrow(/before it started a transaction/);
  });
});
