import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Compression } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import { createDecompressor } from './compression.js';
import { formatRate } from './dump.js';
import { pgToolError, spawnPgTool } from './run.js';
import { ChildStdinSink, CountingStream, expectedRawBytes, throttledProgress } from './streams.js';
import { toolInfo } from '../pg/tools.js';

export interface TransactionRestoreOptions {
  compression?: Compression;
  /** Drop the archive's objects before recreating them (--clean --if-exists). */
  clean?: boolean;
  noOwner?: boolean;
  noPrivileges?: boolean;
  /** SQL run inside the transaction before the archive's statements (e.g. dropping what the archive replaces). */
  before?: string;
  /** SQL run inside the transaction after them, before COMMIT; raising an error rolls everything back (e.g. checks). */
  after?: string;
  pgBinDir?: string | undefined;
  logger?: Logger;
  signal?: AbortSignal;  /** Uncompressed bytes the archive holds (a backup's recorded raw size), for progress with a total; an uncompressed file's own size by default. */
  totalBytes?: number | undefined;
}

const WINDOW = 64 * 1024;

/**
 * Frames pg_restore's single-transaction script: `before` goes right after its BEGIN and
 * `after` right before its final COMMIT. A script that ends without that COMMIT (pg_restore
 * died, the archive was cut) is an error, so the transaction is never committed.
 */
export class ScriptFramer extends Transform {
  private head: Buffer[] = [];
  private headBytes = 0;
  private headDone = false;
  private tail: Buffer = Buffer.alloc(0);

  constructor(
    private readonly before: string,
    private readonly after: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.headDone) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      const text = Buffer.concat(this.head, this.headBytes);
      const at = text.indexOf('\nBEGIN;\n');
      if (at < 0) {
        if (this.headBytes > WINDOW) callback(new Error('the pg_restore script does not start a transaction (no BEGIN)'));
        else callback();
        return;
      }
      this.headDone = true;
      this.head = [];
      const cut = at + '\nBEGIN;\n'.length;
      this.keep(Buffer.concat([text.subarray(0, cut), Buffer.from(`\n${this.before}\n`), text.subarray(cut)]));
      callback();
      return;
    }
    this.keep(chunk);
    callback();
  }

  /** Holds back the last WINDOW bytes, where the final COMMIT will be. */
  private keep(chunk: Buffer): void {
    const all = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    if (all.length > WINDOW) {
      this.push(all.subarray(0, all.length - WINDOW));
      this.tail = Buffer.from(all.subarray(all.length - WINDOW));
    } else {
      this.tail = all;
    }
  }

  override _flush(callback: TransformCallback): void {
    if (!this.headDone) {
      callback(new Error('the pg_restore script ended before it started a transaction'));
      return;
    }
    const at = this.tail.lastIndexOf('\nCOMMIT;\n');
    if (at < 0) {
      callback(new Error('the pg_restore script ended without its COMMIT (incomplete archive?)'));
      return;
    }
    this.push(this.tail.subarray(0, at + 1));
    this.push(Buffer.from(`${this.after}\n`));
    this.push(this.tail.subarray(at + 1));
    callback();
  }
}

/**
 * Restores an archive into an existing database in ONE transaction, with SQL of the
 * caller's before and after it inside that transaction: pg_restore writes the script
 * (--single-transaction), psql runs it with ON_ERROR_STOP. Any error (in the archive, in
 * `before`, a failed check in `after`, a dead child) rolls everything back.
 */
export async function restoreInTransaction(target: DbTarget, input: string | Readable, options: TransactionRestoreOptions = {}): Promise<{ rawBytes: number; durationMs: number }> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const [pgRestore, psql] = await Promise.all([toolInfo('pg_restore', options.pgBinDir), toolInfo('psql', options.pgBinDir)]);
  const restoreArgs = ['--file=-', '--single-transaction'];
  if (options.clean) restoreArgs.push('--clean', '--if-exists');
  if (options.noOwner) restoreArgs.push('--no-owner');
  if (options.noPrivileges) restoreArgs.push('--no-privileges');
  const psqlArgs = ['--no-psqlrc', '--quiet', '--no-password', '--set=ON_ERROR_STOP=1', `--dbname=${target.url}`, '--file=-'];
  logger.debug(`running ${pgRestore.path} ${restoreArgs.join(' ')} | ${psql.path} ${psqlArgs.join(' ')}`);

  const writer = spawnPgTool(pgRestore.path, restoreArgs, { stdin: 'pipe', stdout: 'stream', signal: options.signal });
  const runner = spawnPgTool(psql.path, psqlArgs, { target, stdin: 'pipe', stdout: 'ignore', signal: options.signal });
  const total = await expectedRawBytes(input, options.compression ?? 'none', options.totalBytes);
  const report = throttledProgress((done, rate) => logger.progress({ phase: 'restoring', done, ...(total ? { total } : {}), unit: 'bytes', detail: `(${formatRate(rate)})` }));
  const raw = new CountingStream(report);
  const source = typeof input === 'string' ? createReadStream(input, { highWaterMark: 1024 * 1024 }) : input;
  let flowError: unknown;
  const fail = (error: unknown): void => {
    flowError ??= error;
    // psql must never reach the end of a partial script in a state it could commit: kill it.
    runner.kill('SIGKILL');
    writer.kill('SIGKILL');
  };
  const signal = options.signal ? { signal: options.signal } : {};
  const into = pipeline(source, createDecompressor(options.compression ?? 'none'), raw, new ChildStdinSink(writer.stdin as NodeJS.WritableStream), signal).catch(fail);
  const out = pipeline(writer.stdout as NodeJS.ReadableStream, new ScriptFramer(options.before ?? '', options.after ?? ''), new ChildStdinSink(runner.stdin as NodeJS.WritableStream), signal).catch(fail);
  const [writerResult, runnerResult] = await Promise.all([writer, runner, into, out]);
  if (options.signal?.aborted) throw new DbfastError('INTERRUPTED', 'the restore was interrupted; it was rolled back');
  if (flowError !== undefined) {
    const said = writerResult.failed ? `\n${pgToolError('pg_restore', 'pg_restore', writerResult).message}` : '';
    throw new DbfastError('RESTORE_FAILED', `the restore was rolled back: ${(flowError as Error).message}${said}`, {
      hint: 'The archive could not be read to its end; verify it with `dbfast backup verify`.',
      cause: flowError,
    });
  }
  if (runnerResult.failed) {
    const error = pgToolError('psql', 'the restore failed and was rolled back', runnerResult, target);
    // A missing privilege, a lost connection, ... keep their own codes.
    throw error.code === 'PSQL_FAILED' ? new DbfastError('RESTORE_FAILED', error.message, { hint: error.hint, cause: error, details: error.details }) : error;
  }
  if (writerResult.failed) throw pgToolError('pg_restore', 'reading the archive failed; the restore was rolled back', writerResult);
  return { rawBytes: raw.bytes, durationMs: Date.now() - started };
}
