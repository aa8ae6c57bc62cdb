import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { registerCleanup } from '../cleanup.js';
import type { Compression } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { silentLogger, type Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import { createDecompressor } from './compression.js';
import { formatRate } from './dump.js';
import { pgToolError, spawnPgTool } from './run.js';
import { ChildStdinSink, CountingStream, expectedRawBytes, throttledProgress } from './streams.js';
import { toolInfo } from '../pg/tools.js';

export interface RestoreOptions {
  /** Compression of the input (default none). */
  compression?: Compression;
  /** Parallel jobs (pg_restore -j). Needs a seekable file: a compressed input is decompressed to a temp file first. */
  jobs?: number;
  /** Drop objects before recreating them (--clean --if-exists). */
  clean?: boolean;
  /** All or nothing (--single-transaction); cannot be combined with jobs > 1. */
  singleTransaction?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  /** Stop at the first error (default true): a half-restored database must not look fine. */
  exitOnError?: boolean;
  /** More pg_restore arguments. */
  extraArgs?: string[];
  pgBinDir?: string | undefined;
  /** Where a temporary decompressed copy goes when jobs > 1 (default: beside the input file, else the OS temp folder). */
  tempDir?: string;
  logger?: Logger;
  signal?: AbortSignal;  /** Uncompressed bytes the archive holds (a backup's recorded raw size), for progress with a total; an uncompressed file's own size by default. */
  totalBytes?: number | undefined;
}

export interface RestoreResult {
  /** Bytes of archive pg_restore read (uncompressed). */
  rawBytes: number;
  jobs: number;
  durationMs: number;
}

/**
 * Restores a custom-format archive (file path or stream, compressed or not) into the
 * database `target` names. With one job the archive streams into pg_restore's stdin.
 */
export async function restoreArchive(target: DbTarget, input: string | Readable, options: RestoreOptions = {}): Promise<RestoreResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const compression = options.compression ?? 'none';
  const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
  if (jobs > 1 && options.singleTransaction) {
    throw new DbfastError('RESTORE_OPTIONS', 'a single-transaction restore cannot use parallel jobs', {
      hint: 'Use jobs = 1 with singleTransaction, or drop singleTransaction.',
    });
  }
  const pgRestore = await toolInfo('pg_restore', options.pgBinDir);
  const args = ['--no-password', `--dbname=${target.url}`];
  if (options.exitOnError !== false) args.push('--exit-on-error');
  if (options.clean) args.push('--clean', '--if-exists');
  if (options.singleTransaction) args.push('--single-transaction');
  if (options.noOwner) args.push('--no-owner');
  if (options.noPrivileges) args.push('--no-privileges');
  if (jobs > 1) args.push(`--jobs=${jobs}`);
  args.push(...(options.extraArgs ?? []));
  const total = await expectedRawBytes(input, compression, options.totalBytes);
  const report = throttledProgress((done, rate) =>
    logger.progress({ phase: 'restoring', done, ...(total ? { total } : {}), unit: 'bytes', detail: `(${formatRate(rate)})` }),
  );

  if (jobs > 1) {
    let file = typeof input === 'string' && compression === 'none' ? input : undefined;
    let temp: string | undefined;
    let unregister: (() => void) | undefined;
    let rawBytes = 0;
    try {
      if (!file) {
        const dir = options.tempDir ?? (typeof input === 'string' ? path.dirname(input) : os.tmpdir());
        temp = path.join(dir, `.dbfast-restore-${randomBytes(4).toString('hex')}.dump.partial`);
        const tempPath = temp;
        unregister = registerCleanup(() => rm(tempPath, { force: true }));
        rawBytes = await decompressToFile(input, tempPath, compression, report, options.signal).catch((error: unknown) => {
          throw operationalError(error, { path: tempPath, doing: 'decompressing the archive for a parallel restore' }) ?? error;
        });
        file = temp;
      }
      logger.debug(`running ${pgRestore.path} ${args.join(' ')} ${file}`);
      // Absolute, so a relative name can never read as an option of pg_restore.
      const result = await spawnPgTool(pgRestore.path, [...args, path.resolve(file)], { target, stdin: 'ignore', stdout: 'ignore', signal: options.signal });
      if (result.failed) throw pgToolError('pg_restore', `restoring into ${databaseLabel(target)} failed`, result, target);
    } finally {
      if (temp) await rm(temp, { force: true });
      unregister?.();
    }
    return { rawBytes, jobs, durationMs: Date.now() - started };
  }

  logger.debug(`running ${pgRestore.path} ${args.join(' ')} < archive`);
  const child = spawnPgTool(pgRestore.path, args, { target, stdin: 'pipe', stdout: 'ignore', signal: options.signal });
  const source = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1024 * 1024 }) : input;
  const raw = new CountingStream(report);
  let flowError: unknown;
  const flow = pipeline(source, createDecompressor(compression), raw, new ChildStdinSink(child.stdin as NodeJS.WritableStream), {
    ...(options.signal ? { signal: options.signal } : {}),
  }).catch((error: unknown) => {
    flowError = error;
    // pg_restore must not finish on a partial archive: kill it so its transaction (if any) rolls back.
    child.kill('SIGKILL');
  });
  const [result] = await Promise.all([child, flow]);
  if (options.signal?.aborted) throw new DbfastError('INTERRUPTED', 'the restore was interrupted');
  if (flowError !== undefined) {
    const readFailure = operationalError(flowError, { path: typeof input === 'string' ? input : undefined, doing: 'reading the archive' });
    if (readFailure) throw readFailure;
    throw new DbfastError('ARCHIVE_UNREADABLE', `cannot read the archive while restoring: ${(flowError as Error).message}`, {
      hint: 'The archive is damaged; verify it with `dbfast backup verify`, or use another one.',
      cause: flowError,
    });
  }
  if (result.failed) throw pgToolError('pg_restore', `restoring into ${databaseLabel(target)} failed`, result, target);
  return { rawBytes: raw.bytes, jobs, durationMs: Date.now() - started };
}

async function decompressToFile(
  input: string | Readable,
  file: string,
  compression: Compression,
  onBytes: (total: number) => void,
  signal?: AbortSignal,
): Promise<number> {
  const counter = new CountingStream(onBytes);
  const source = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1024 * 1024 }) : input;
  await pipeline(source, createDecompressor(compression), counter, createWriteStream(file, { flags: 'wx', mode: 0o600 }), {
    ...(signal ? { signal } : {}),
  });
  return counter.bytes;
}

function databaseLabel(target: DbTarget): string {
  const url = new URL(target.url);
  return `database "${decodeURIComponent(url.pathname.slice(1))}"`;
}
