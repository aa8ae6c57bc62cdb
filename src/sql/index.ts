/**
 * The SQL runner: runs a repository's SQL files into a database and maps failures back to
 * `file:line:column`.
 *
 * In-process (default): files are read, split (statements; `COPY ... FROM stdin` blocks with
 * their data up to `\.`) and checked before anything runs; statements then go in batches of
 * about 1 MiB per simple query (across files), COPY data streams through pg-copy-streams, and
 * statements that refuse a transaction block run on their own.
 *
 * psql meta-commands: `\i FILE` / `\include` and `\ir FILE` / `\include_relative` include a
 * file; BOTH resolve a relative FILE against the including file's folder (psql resolves `\i`
 * against its working directory; the psql runner starts psql in the top file's folder, so the
 * two agree for files included from a top-level file). Include cycles are refused with the
 * chain. `\restrict KEY` / `\unrestrict KEY` (recent pg_dump) are honoured. Every other
 * meta-command is an error naming `file:line` with the hint to use `runner = "psql"`.
 *
 * Error codes: SQL_ERROR (the server refused a statement; details: file, line, column, sqlState,
 * detail, serverHint, where, includedFrom), SQL_FAILED (the connection failed mid-run),
 * SQL_META_COMMAND, SQL_INCLUDE_CYCLE, SQL_INCLUDE_MISSING, SQL_INCLUDE_INVALID,
 * SQL_INCLUDE_DEPTH, SQL_COPY_UNTERMINATED, SQL_COPY_SAME_LINE, SQL_UNSUPPORTED (a setting the
 * in-process runner cannot follow, COPY TO STDOUT), SQL_FILE_UNREADABLE, SQL_FILE_TOO_LARGE,
 * SQL_OPEN_TRANSACTION (files BEGIN and never COMMIT), and for the psql runner SQL_PSQL_ERROR
 * (psql itself refused a line), SQL_PSQL_FAILED, TOOL_MISSING.
 */
import path from 'node:path';
import type pg from 'pg';
import { silentLogger, type Logger } from '../logger.js';
import { connect } from '../pg/client.js';
import { PlanExecutor, type ExecuteStats } from './execute.js';
import { planFile, type SqlPlan } from './plan.js';
import type { RunFilesOptions, RunFilesResult, SqlFile, TransactionMode } from './types.js';

export type { RunFilesOptions, RunFilesResult, SqlErrorDetails, SqlFile, TransactionMode } from './types.js';
export { splitSql, isCopyFromStdin, type SqlItem, type SqlStatement, type SqlCopy, type SqlMetaCommand, type Unclosed } from './split.js';
export { classify, type StatementTraits } from './classify.js';
export { planFile, type SqlPlan, type PlannedStep, type PlannedStatement, type PlannedCopy } from './plan.js';
export { PlanExecutor, DEFAULT_BATCH_CHARS, type ExecuteStats, type ExecutorOptions } from './execute.js';
export type { SourceFile, SourceLocation } from './source.js';

const READ_CONCURRENCY = 16;

/** Plans files with a bounded number of reads in flight, keeping their order. */
async function planAll(files: SqlFile[]): Promise<SqlPlan[]> {
  const plans: SqlPlan[] = new Array<SqlPlan>(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const index = next++;
      plans[index] = await planFile(files[index] as SqlFile);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, files.length) }, worker));
  return plans;
}

function forwardNotices(client: pg.Client, logger: Logger): () => void {
  const onNotice = (notice: { severity?: string | undefined; message?: string | undefined }): void => logger.debug(`${notice.severity ?? 'NOTICE'}: ${notice.message ?? ''}`);
  client.on('notice', onNotice);
  return () => client.off('notice', onNotice);
}

/**
 * Runs SQL files in order into `options.target`. In-process (default): every file (and its `\i`
 * includes) is read, split and checked before anything runs; then statements go in batches
 * (one simple query per ~1 MiB, across files), COPY data streams, and a failure becomes a
 * `SQL_ERROR` DbfastError naming `file:line:column`. `runner: 'psql'` runs `psql -f` per file.
 */
export async function runFiles(files: SqlFile[], options: RunFilesOptions): Promise<RunFilesResult> {
  if (options.runner === 'psql') {
    // Loaded only when asked for: execa alone takes ~200 ms to import.
    const { runFilesWithPsql } = await import('./psql.js');
    return runFilesWithPsql(files, options);
  }
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  const plans = await planAll(files);
  const client = options.client ?? (await connect(options.target));
  const stopNotices = forwardNotices(client, logger);
  let current = { index: 0, file: '' };
  // A long COPY (a 150 MB data file) says rows and bytes as it goes, not only "file 1 of 2".
  const onCopyProgress = (copy: { bytes: number; totalBytes: number; rows: number }): void =>
    logger.progress({ phase: 'sql', done: current.index, total: plans.length, unit: 'files', detail: current.file, rows: copy.rows, bytes: copy.bytes, totalBytes: copy.totalBytes });
  const executor = new PlanExecutor(client, { batchChars: options.batchChars, transaction: options.transaction ?? 'single', onCopyProgress });
  try {
    for (const [index, plan] of plans.entries()) {
      current = { index, file: plan.file.relativePath };
      logger.progress({ phase: 'sql', done: index, total: plans.length, unit: 'files', detail: plan.file.relativePath });
      await executor.run(plan);
    }
    await executor.finish();
  } finally {
    stopNotices();
    if (!options.client) await client.end().catch(() => undefined);
  }
  logger.progress({ phase: 'sql', done: plans.length, total: plans.length, unit: 'files' });
  const { statements, copyRows, roundTrips } = executor.stats;
  const durationMs = Math.round(performance.now() - started);
  logger.debug(`ran ${files.length} SQL files: ${statements} statements, ${copyRows} COPY rows, ${roundTrips} round trips in ${durationMs} ms`);
  return { files: files.length, statements, copyRows, roundTrips, durationMs };
}

export interface RunSqlOptions {
  logger?: Logger;
  batchChars?: number;
  /** Default `none`: the file runs as sent, so a caller's BEGIN/COMMIT around the call makes it atomic. */
  transaction?: TransactionMode;
}

/**
 * Runs one file on `client` as it is (no transaction of its own: wrap the call in
 * BEGIN/COMMIT, e.g. with `withTransaction`, to make the file atomic). Errors as in `runFiles`.
 */
export async function runFile(client: pg.Client, file: SqlFile, options: RunSqlOptions = {}): Promise<ExecuteStats> {
  return runPlan(client, await planFile(file), options);
}

/**
 * Runs SQL text on `client`; `name` is how errors name it (`relativePath`), and `\i` includes
 * resolve against `absolutePath`'s folder (default: the working directory).
 */
export async function runSqlText(client: pg.Client, sql: string | Buffer, name: { relativePath: string; absolutePath?: string }, options: RunSqlOptions = {}): Promise<ExecuteStats> {
  const file: SqlFile = { relativePath: name.relativePath, absolutePath: name.absolutePath ?? path.resolve(name.relativePath) };
  return runPlan(client, await planFile(file, sql), options);
}

/** Runs an already planned file (from `planFile`) on `client`. */
export async function runPlan(client: pg.Client, plan: SqlPlan, options: RunSqlOptions = {}): Promise<ExecuteStats> {
  const stopNotices = forwardNotices(client, options.logger ?? silentLogger);
  try {
    const executor = new PlanExecutor(client, { batchChars: options.batchChars, transaction: options.transaction ?? 'none' });
    await executor.run(plan);
    await executor.finish();
    return { ...executor.stats };
  } finally {
    stopNotices();
  }
}
