/**
 * The SQL runner: runs a repository's SQL files into a database and maps failures back to
 * `file:line:column`.
 *
 * In-process (default): files are read a window at a time (about 96 KiB; the statement being
 * read when it is longer), split the way psql splits them (statements; `COPY ... FROM stdin`
 * blocks streamed up to `\.`) and checked before anything runs; then read again (small files
 * are kept from the first pass) and sent: statements in batches of about 64 KiB per simple
 * query (across files), COPY data streamed through pg-copy-streams, statements that refuse a
 * transaction block on their own. Memory stays bounded whatever the size of a file.
 *
 * Each file starts from the database's defaults (as psql, which runs each file in a session of
 * its own): settings a file makes do not reach the next one. psql variables work as in psql:
 * `variables` (`-v` for the psql runner), psql's own (`:DBNAME`, `:USER`, ...), `\set` and
 * `\unset`, substituted with psql's rules (`:name`, `:'name'`, `:"name"`, `:{?name}`).
 *
 * psql meta-commands: `\i FILE` / `\include` and `\ir FILE` / `\include_relative` include a
 * file; in-process BOTH resolve a relative FILE against the including file's folder (psql
 * resolves `\i` against its working directory; the psql runner starts psql in the top file's
 * folder, so the two agree for files included from a top-level file). Includes may not leave
 * the repository; cycles are refused with the chain. `\restrict KEY` / `\unrestrict KEY`
 * (recent pg_dump) are honoured. `\c` / `\connect` are refused by both runners (the files run in
 * the database they are given). Every other meta-command is an error naming `file:line` with
 * the hint to use `runner = "psql"`.
 *
 * Error codes: SQL_ERROR (the server refused a statement; details: file, line, column, sqlState,
 * detail, serverHint, where, includedFrom), SQL_FAILED (the connection failed mid-run),
 * SQL_META_COMMAND, SQL_DATABASE_SWITCH, SQL_SERVER_WIDE (`serverWide: 'refuse'`),
 * SQL_INCLUDE_CYCLE, SQL_INCLUDE_MISSING, SQL_INCLUDE_INVALID, SQL_INCLUDE_OUTSIDE,
 * SQL_INCLUDE_DEPTH, SQL_COPY_UNTERMINATED, SQL_COPY_SAME_LINE, SQL_UNSUPPORTED (a setting or a
 * variable the in-process runner cannot follow, COPY TO STDOUT), SQL_FILE_UNREADABLE,
 * SQL_FILE_CHANGED (a file changed between the check and the run), SQL_OPEN_TRANSACTION (a file
 * BEGINs and never COMMITs), and for the psql runner SQL_PSQL_ERROR (psql itself refused a
 * line), SQL_PSQL_FAILED, TOOL_MISSING.
 */
import path from 'node:path';
import type pg from 'pg';
import { silentLogger, type Logger } from '../logger.js';
import { PlanExecutor, type ExecuteStats } from './execute.js';
import { forwardNotices } from './inprocess.js';
import { planFile, type SqlPlan } from './plan.js';
import { connectionVariables, PSQL_DEFAULTS } from './psql-variables.js';
import type { RunFilesOptions, RunFilesResult, SqlFile, TransactionMode } from './types.js';

export type { RunFilesOptions, RunFilesResult, SqlErrorDetails, SqlFile, TransactionMode } from './types.js';
export { splitSql, isCopyFromStdin, type SqlItem, type SqlStatement, type SqlCopy, type SqlMetaCommand, type Unclosed } from './split.js';
export { classify, type StatementTraits } from './classify.js';
export { planFile, type SqlPlan, type PlannedStep, type PlannedStatement, type PlannedCopy, type PlannedVariable } from './plan.js';
export { PlanExecutor, DEFAULT_BATCH_CHARS, type ExecuteStats, type ExecutorOptions } from './execute.js';
export { serverWideStatement } from './server-wide.js';
export { SESSION_RESET_SQL } from './session.js';
export { runClusterSetup, type ClusterSetupOptions, type ClusterSetupResult, type ClusterSetupState } from './cluster-setup.js';
export { scanIncludes, type IncludeReference } from './includes.js';
export type { SourceFile, SourceLocation } from './source.js';

/**
 * Runs SQL files in order into `options.target`. In-process (default): every file (and its `\i`
 * includes) is read, split and checked before anything runs; then statements go in batches
 * (one simple query per ~64 KiB, across files), COPY data streams, and a failure becomes a
 * `SQL_ERROR` DbfastError naming `file:line:column`. `runner: 'psql'` runs `psql -f` per file,
 * after the same check of what would make the build wrong.
 */
export async function runFiles(files: SqlFile[], options: RunFilesOptions): Promise<RunFilesResult> {
  if (options.runner === 'psql') {
    // Loaded only when asked for: execa alone takes ~200 ms to import.
    const { runFilesWithPsql } = await import('./psql.js');
    return runFilesWithPsql(files, options);
  }
  const { runFilesInProcess } = await import('./inprocess.js');
  return runFilesInProcess(files, options);
}

export interface RunSqlOptions {
  logger?: Logger;
  batchChars?: number;
  /** Default `none`: the file runs as sent, so a caller's BEGIN/COMMIT around the call makes it atomic. */
  transaction?: TransactionMode;
  /** psql variables besides psql's own. */
  variables?: Record<string, string>;
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
    const usesVariables = plan.steps.some((step) => step.kind === 'variable' || step.references.length > 0);
    const automatic = usesVariables ? await connectionVariables(client) : {};
    await executor.beginFile({ relativePath: plan.file.relativePath, absolutePath: plan.file.absolutePath }, new Map([...Object.entries(PSQL_DEFAULTS), ...Object.entries(options.variables ?? {}), ...Object.entries(automatic)]), false);
    for (const step of plan.steps) await executor.step(step);
    await executor.finish();
    return { ...executor.stats };
  } finally {
    stopNotices();
  }
}
