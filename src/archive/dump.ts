import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { silentLogger, type Logger } from '../logger.js';
import { serverVersionNum as queryServerVersion, withClient } from '../pg/client.js';
import type { DbTarget } from '../pg/target.js';
import { createCompressor } from './compression.js';
import { pgToolError, spawnPgTool } from './run.js';
import { CountingStream, HashingStream, throttledProgress } from './streams.js';
import { dumpCompatibilityProblem, toolInfo, type ToolInfo } from '../pg/tools.js';
import { describeLockWait, lockHolders, watchLockWaits, type LockWait } from '../pg/lock-wait.js';

export interface DumpOptions {
  /** Compression of the output (default zstd). pg_dump itself never compresses (-Z0): we compress once. */
  compression?: Compression;
  compressionLevel?: number;
  /** `[tools] pg_bin_dir`. */
  pgBinDir?: string | undefined;
  /** A snapshot exported with pg_export_snapshot(), so the dump sees exactly what the caller saw. */
  snapshot?: string;
  /** Known server version (skips a query). */
  serverVersionNum?: number;
  /**
   * Give up when a table stays locked by another session this long (pg_dump --lock-wait-timeout);
   * without it the dump waits, saying who blocks it.
   */
  lockTimeoutMs?: number | undefined;
  /** More pg_dump arguments, e.g. ['--schema-only'] or ['--exclude-table-data=log.*']. */
  extraArgs?: string[];
  logger?: Logger;
  signal?: AbortSignal;
  /**
   * Called at pg_dump's first byte of output: by then it holds its table locks and has read the
   * catalog (the custom format's table of contents comes first), so a table it cannot read or
   * lock has already failed it.
   */
  onStarted?: () => void;
}

export interface DumpResult {
  /** Bytes written (after compression). */
  sizeBytes: number;
  /** Bytes pg_dump produced (before compression). */
  rawBytes: number;
  /** sha256 of the bytes written. */
  sha256: string;
  compression: Compression;
  pgDump: ToolInfo;
  serverVersionNum: number;
  durationMs: number;
}

/** pg_dump (or pg_restore) refuses servers newer than itself: say so before anything starts. */
export async function checkedTool(tool: 'pg_dump' | 'pg_restore', serverVersionNum: number, pgBinDir?: string): Promise<ToolInfo> {
  const info = await toolInfo(tool, pgBinDir);
  const problem = tool === 'pg_dump' ? dumpCompatibilityProblem(info, serverVersionNum) : undefined;
  if (problem) {
    throw new DbfastError('TOOL_TOO_OLD', problem, {
      hint: 'Install the newer client tools, then set [tools] pg_bin_dir in dbfast.toml to their bin folder.',
      details: { tool, toolVersion: info.version, serverVersionNum },
    });
  }
  return info;
}

/**
 * Dumps a database in pg_dump's custom format, compressed on the way, with the sha256 of
 * what was written. `output` is a file path (created exclusively, fsynced, removed on
 * failure) or a stream (ended when the dump ends). Memory stays flat: everything streams.
 */
export async function dumpDatabase(target: DbTarget, output: string | Writable, options: DumpOptions = {}): Promise<DumpResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const compression = options.compression ?? 'zstd';
  const serverVersionNum = options.serverVersionNum ?? (await withClient(target, queryServerVersion));
  const pgDump = await checkedTool('pg_dump', serverVersionNum, options.pgBinDir);
  // A name of its own (no spaces: libpq does not decode '+' in URLs), so the lock watch can find pg_dump's session.
  const applicationName = `dbfast-pg_dump-${randomBytes(4).toString('hex')}`;
  const args = ['--format=custom', '--compress=0', '--no-password', `--dbname=${withApplicationName(target.url, applicationName)}`];
  if (options.snapshot) args.push(`--snapshot=${options.snapshot}`);
  if (options.lockTimeoutMs !== undefined) args.push(`--lock-wait-timeout=${Math.max(1, Math.round(options.lockTimeoutMs))}`);
  args.push(...(options.extraArgs ?? []));
  logger.debug(`running ${pgDump.path} ${args.join(' ')}`);

  const file = typeof output === 'string' ? output : undefined;
  // 'wx': never overwrite (opened here, so an existing file is refused before anything
  // runs, and never removed by our clean-up); flush: fsync before close.
  const handle = file
    ? await open(file, 'wx', 0o600).catch((error: NodeJS.ErrnoException) => {
        throw new DbfastError('DUMP_FILE_UNWRITABLE', `cannot create ${file}: ${error.message}`, {
          hint: error.code === 'EEXIST' ? 'The file exists already; dbfast never overwrites a dump. Choose another name.' : 'Check the folder exists and is writable.',
          cause: error,
        });
      })
    : undefined;
  const sink: Writable = handle ? handle.createWriteStream({ flush: true }) : (output as Writable);
  const child = spawnPgTool(pgDump.path, args, { target, stdin: 'ignore', stdout: 'stream', signal: options.signal });
  const report = throttledProgress((done, rate) =>
    logger.progress({ phase: 'dumping', done, unit: 'bytes', detail: `(${formatRate(rate)})` }),
  );
  let producing = false;
  const raw = new CountingStream((total) => {
    if (!producing) {
      producing = true;
      options.onStarted?.();
    }
    report(total);
  });
  const hasher = new HashingStream();
  let flowError: unknown;
  const flow = pipeline(child.stdout as NodeJS.ReadableStream, raw, createCompressor(compression, { level: options.compressionLevel }), hasher, sink, {
    ...(options.signal ? { signal: options.signal } : {}),
  }).catch((error: unknown) => {
    flowError = error;
    child.kill();
  });
  const lockWatch = watchLockWaits({ target, applicationName, logger, what: `the dump of ${maskedName(target)}`, timeoutMs: options.lockTimeoutMs });
  try {
    const [result] = await Promise.all([child, flow]).finally(() => lockWatch.stop());
    // The cause first: a write that failed (and made us stop pg_dump), then pg_dump's own
    // failure (its error lines), and only then an interruption.
    if (flowError !== undefined && !options.signal?.aborted) {
      const doing = `writing the dump${file ? ` to ${file}` : ''}`;
      // Into a stream, the stream's owner knows (and reports) why it stopped; into a file, we do.
      throw (
        (file ? operationalError(flowError, { path: file, doing }) : undefined) ??
        new DbfastError('DUMP_WRITE_FAILED', `cannot write the dump${file ? ` to ${file}` : ''}: ${(flowError as Error).message}`, {
          hint: 'Check free disk space and permissions of the backup folder.',
          cause: flowError,
        })
      );
    }
    if (result.failed && !result.isCanceled) throw await lockTimeoutError(pgToolError('pg_dump', `dumping ${maskedName(target)} failed`, result, target), target, lockWatch.lastWait);
    if (options.signal?.aborted) throw new DbfastError('INTERRUPTED', 'the dump was interrupted');
    if (result.failed) throw pgToolError('pg_dump', `dumping ${maskedName(target)} failed`, result, target);
  } catch (error) {
    if (file) await rm(file, { force: true });
    throw error;
  }
  return {
    sizeBytes: hasher.bytes,
    rawBytes: raw.bytes,
    sha256: hasher.digest(),
    compression,
    pgDump,
    serverVersionNum,
    durationMs: Date.now() - started,
  };
}

/** The URL with dbfast's application_name for the child's session. */
function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}

/**
 * pg_dump gave up waiting for a table lock (--lock-wait-timeout sets statement_timeout around
 * its LOCK TABLE statements): LOCK_TIMEOUT, naming who holds the lock (asked now, else as the
 * lock watch last saw it).
 */
async function lockTimeoutError(error: DbfastError, target: DbTarget, seen: LockWait | undefined): Promise<DbfastError> {
  const lock = /Query was: LOCK TABLE (\S+) IN/.exec(error.message);
  if (!(error.code === 'LOCK_TIMEOUT' || (error.code === 'STATEMENT_CANCELED' && lock))) return error;
  const relation = lock?.[1] ?? seen?.relation ?? null;
  const holders = relation ? await withClient(target, (client) => lockHolders(client, relation)).catch(() => []) : [];
  const wait: LockWait | undefined = holders.length > 0 ? { pid: 0, relation, waitedSeconds: 0, blockers: holders } : seen;
  return new DbfastError('LOCK_TIMEOUT', `${error.message}${wait ? `\nthe dump was ${describeLockWait(wait)}` : ''}`, {
    hint: 'Another session holds a lock on a table the dump needs (named above): end that session or wait for it, or raise --lock-timeout.',
    cause: error,
    details: { ...(error.details ?? {}), ...(wait ? { blockers: wait.blockers } : {}) },
  });
}

function maskedName(target: DbTarget): string {
  const url = new URL(target.url);
  return `database "${decodeURIComponent(url.pathname.slice(1))}" on ${url.hostname}${url.port ? `:${url.port}` : ''}`;
}

export function formatRate(bytesPerSecond: number): string {
  const mib = bytesPerSecond / (1024 * 1024);
  return mib >= 1 ? `${mib.toFixed(1)} MiB/s` : `${(bytesPerSecond / 1024).toFixed(0)} KiB/s`;
}
