import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { DbfastError } from '../errors.js';
import type { SentStatement } from './batch.js';
import { statementError } from './locate.js';
import { isServerError, sqlError } from './sql-error.js';

/** About this often a streamed COPY reports how far its data has gone. */
const PROGRESS_BYTES = 1 << 20;

/** How far a COPY's data has gone: bytes sent of its total (when a first pass measured it), and rows (its lines) so far. */
export interface CopyProgress {
  bytes: number;
  totalBytes?: number | undefined;
  rows: number;
}

/** Rows in a piece of COPY text data: one per line (a newline inside a value is written `\\n`). */
function lines(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) n++;
  return n;
}

/** The data passed through as read; about once per MiB, `onProgress` hears how far it has gone. */
async function* counted(data: AsyncIterable<Buffer>, totalBytes: number | undefined, onProgress: (progress: CopyProgress) => void): AsyncGenerator<Buffer> {
  let bytes = 0;
  let rows = 0;
  let reported = 0;
  for await (const piece of data) {
    yield piece;
    bytes += piece.length;
    rows += lines(piece);
    if (bytes - reported >= PROGRESS_BYTES) {
      reported = bytes;
      onProgress({ bytes, totalBytes, rows });
    }
  }
}

type CopyStreams = typeof import('pg-copy-streams');
let copyStreams: Promise<CopyStreams> | undefined;

async function loadCopyStreams(): Promise<CopyStreams> {
  const loaded = (await import('pg-copy-streams')) as CopyStreams & { default?: CopyStreams };
  // A CommonJS module: Node's loader gives named exports, the CLI bundle only `default`.
  return typeof loaded.from === 'function' ? loaded : (loaded.default as CopyStreams);
}

/**
 * Runs `COPY ... FROM stdin` (`sent`) with its inline data exactly as written, streamed as it is
 * read (pieces of the file, never the whole block); returns the rows copied.
 */
export async function runCopy(
  client: pg.Client,
  sent: SentStatement,
  dataLine: number,
  data: AsyncIterable<Buffer>,
  progress?: { totalBytes: number | undefined; onProgress: (progress: CopyProgress) => void },
): Promise<number> {
  // Imported on the first COPY, so runs without one do not pay for it.
  const { from: copyFrom } = await (copyStreams ??= loadCopyStreams());
  const stream = client.query(copyFrom(sent.sql));
  try {
    await pipeline(Readable.from(progress ? counted(data, progress.totalBytes, progress.onProgress) : data, { objectMode: false }), stream);
  } catch (error) {
    throw copyError(sent, dataLine, error);
  }
  return stream.rowCount;
}

/** A failure inside the data names its data line (`CONTEXT: COPY t, line 3, column b`); else the COPY statement. */
function copyError(sent: SentStatement, dataLine: number, error: unknown): DbfastError {
  if (isServerError(error) && !error.position) {
    const line = /\bCOPY [^,]*, line (\d+)/.exec(error.where ?? '')?.[1];
    if (line !== undefined) return sqlError(sent.source, { line: dataLine + Number(line) - 1, column: 1 }, error, error);
  }
  return statementError(sent, error);
}
