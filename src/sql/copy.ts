import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import type { DbfastError } from '../errors.js';
import { statementError } from './locate.js';
import type { PlannedCopy } from './plan.js';
import { isServerError, sqlError } from './sql-error.js';

const CHUNK_BYTES = 1 << 20;

/** How far a COPY's data has gone: bytes sent of its total, and rows (its lines) so far. */
export interface CopyProgress {
  bytes: number;
  totalBytes: number;
  rows: number;
}

/** Rows in a slice of COPY text data: one per line (a newline inside a value is written `\\n`). */
function lines(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) n++;
  return n;
}

/**
 * The data as zero-copy slices of the file's buffer, so multi-MB COPY blocks are never turned
 * into strings; after each slice is taken, `onProgress` hears how far the data has gone.
 */
function* chunks(data: Buffer, onProgress?: (progress: CopyProgress) => void): Generator<Buffer> {
  let rows = 0;
  for (let at = 0; at < data.length; at += CHUNK_BYTES) {
    const chunk = data.subarray(at, at + CHUNK_BYTES);
    yield chunk;
    if (onProgress) {
      rows += lines(chunk);
      onProgress({ bytes: at + chunk.length, totalBytes: data.length, rows });
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

/** Runs `COPY ... FROM stdin` with its inline data exactly as written; returns the rows copied. */
export async function runCopy(client: pg.Client, step: PlannedCopy, onProgress?: (progress: CopyProgress) => void): Promise<number> {
  const { copy, source } = step;
  // Imported on the first COPY, so runs without one do not pay for it.
  const { from: copyFrom } = await (copyStreams ??= loadCopyStreams());
  const stream = client.query(copyFrom(copy.statement.text));
  const data = source.buffer.subarray(copy.dataStart, copy.dataEnd);
  try {
    await pipeline(Readable.from(chunks(data, onProgress), { objectMode: false }), stream);
  } catch (error) {
    throw copyError(step, error);
  }
  return stream.rowCount;
}

/** A failure inside the data names its data line (`CONTEXT: COPY t, line 3, column b`); else the COPY statement. */
function copyError(step: PlannedCopy, error: unknown): DbfastError {
  const { copy, source } = step;
  if (isServerError(error) && !error.position) {
    const dataLine = /\bCOPY [^,]*, line (\d+)/.exec(error.where ?? '')?.[1];
    if (dataLine !== undefined) {
      return sqlError(source, { line: copy.dataLine + Number(dataLine) - 1, column: 1 }, error, error);
    }
  }
  return statementError(source, copy.statement, error);
}
