import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { createDecompressor } from './compression.js';
import { pgToolError, spawnPgTool } from './run.js';
import { ChildStdinSink, CountingStream, HashingStream } from './streams.js';
import { toolInfo } from '../pg/tools.js';

export interface ArchiveReadOptions {
  /** Compression of the input (default none). */
  compression?: Compression;
  pgBinDir?: string | undefined;
  signal?: AbortSignal;
  /** Called with the compressed bytes read so far (for progress). */
  onBytes?: (total: number) => void;
}

/** What reading the whole input found: its size and sha256 as stored, and the archive size. */
export interface ArchiveDigest {
  sizeBytes: number;
  sha256: string;
  rawBytes: number;
}

export interface ArchiveEntry {
  dumpId: number;
  /** Object kind as pg_restore names it: TABLE, TABLE DATA, INDEX, FK CONSTRAINT, ... */
  kind: string;
  /** The rest of the line: kind, schema, name, owner. */
  description: string;
}

export interface ArchiveListing extends ArchiveDigest {
  /** Header fields (dbname, Dumped from database version, Dumped by pg_dump version, ...). */
  header: Record<string, string>;
  entries: ArchiveEntry[];
}

/**
 * The table of contents (`pg_restore --list`). The whole input is still read: through the
 * sha256 and the decompressor, so a corrupt or truncated file fails here even though
 * pg_restore itself only needs the first bytes.
 */
export async function listArchive(input: string | Readable, options: ArchiveReadOptions = {}): Promise<ArchiveListing> {
  const { digest, stdout } = await feedPgRestore(input, ['--list'], options, 'reading the archive table of contents');
  return { ...digest, ...parseListing(stdout) };
}

/**
 * Reads every entry of the archive, data included (`pg_restore -f /dev/null`): the check
 * that the archive can really be restored, short of restoring it.
 */
export async function readArchive(input: string | Readable, options: ArchiveReadOptions = {}): Promise<ArchiveDigest> {
  const { digest } = await feedPgRestore(input, ['--file=/dev/null'], options, 'reading the archive');
  return digest;
}

async function feedPgRestore(
  input: string | Readable,
  args: string[],
  options: ArchiveReadOptions,
  what: string,
): Promise<{ digest: ArchiveDigest; stdout: string }> {
  const pgRestore = await toolInfo('pg_restore', options.pgBinDir);
  const source = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1024 * 1024 }) : input;
  const child = spawnPgTool(pgRestore.path, args, {
    stdin: 'pipe',
    stdout: args.includes('--list') ? 'buffer' : 'ignore',
    signal: options.signal,
  });
  const hasher = new HashingStream(options.onBytes);
  const raw = new CountingStream();
  const sink = new ChildStdinSink(child.stdin as NodeJS.WritableStream);
  let flowError: unknown;
  const flow = pipeline(source, hasher, createDecompressor(options.compression ?? 'none'), raw, sink, {
    ...(options.signal ? { signal: options.signal } : {}),
  }).catch((error: unknown) => {
    flowError = error;
    child.kill();
  });
  const [result] = await Promise.all([child, flow]);
  if (options.signal?.aborted) throw new DbfastError('INTERRUPTED', `${what} was interrupted`);
  if (flowError !== undefined) {
    const readFailure = operationalError(flowError, { path: typeof input === 'string' ? input : undefined, doing: what });
    if (readFailure) throw readFailure;
    const where = typeof input === 'string' ? ` ${input}` : '';
    throw new DbfastError('ARCHIVE_UNREADABLE', `${what}${where} failed: ${(flowError as Error).message}`, {
      hint: 'The file is damaged or not compressed the way its name says; use another backup.',
      cause: flowError,
    });
  }
  if (result.failed) {
    const error = pgToolError('pg_restore', what + (typeof input === 'string' ? ` ${input}` : ''), result);
    throw new DbfastError('ARCHIVE_UNREADABLE', error.message, { hint: error.hint, cause: error });
  }
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  return { digest: { sizeBytes: hasher.bytes, sha256: hasher.digest(), rawBytes: raw.bytes }, stdout };
}

// Longest first, so "MATERIALIZED VIEW DATA" wins over "MATERIALIZED VIEW".
const MULTIWORD_KINDS = [
  'PUBLICATION TABLES IN SCHEMA', 'TEXT SEARCH CONFIGURATION', 'TEXT SEARCH DICTIONARY', 'MATERIALIZED VIEW DATA',
  'FOREIGN DATA WRAPPER', 'TEXT SEARCH TEMPLATE', 'TEXT SEARCH PARSER', 'PROCEDURAL LANGUAGE', 'DATABASE PROPERTIES',
  'PUBLICATION TABLE', 'MATERIALIZED VIEW', 'SEQUENCE OWNED BY', 'CHECK CONSTRAINT', 'OPERATOR FAMILY', 'OPERATOR CLASS',
  'EVENT TRIGGER', 'FOREIGN TABLE', 'FOREIGN SERVER', 'ACCESS METHOD', 'BLOB METADATA', 'FK CONSTRAINT', 'LARGE OBJECT',
  'SEQUENCE SET', 'USER MAPPING', 'ROW SECURITY', 'INDEX ATTACH', 'TABLE ATTACH', 'DEFAULT ACL', 'TABLE DATA',
  'SHELL TYPE', 'BLOB DATA',
];

export function parseListing(text: string): { header: Record<string, string>; entries: ArchiveEntry[] } {
  const header: Record<string, string> = {};
  const entries: ArchiveEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(';')) {
      const field = /^;\s+([^:]+):\s*(.*)$/.exec(line);
      if (field) header[(field[1] as string).trim()] = (field[2] as string).trim();
      continue;
    }
    const entry = /^(\d+);\s+\d+\s+\d+\s+(.*)$/.exec(line);
    if (!entry) continue;
    const description = entry[2] as string;
    const kind = MULTIWORD_KINDS.find((k) => description.startsWith(`${k} `)) ?? description.split(' ')[0] ?? '';
    entries.push({ dumpId: Number(entry[1]), kind, description });
  }
  return { header, entries };
}
