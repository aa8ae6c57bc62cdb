import type pg from 'pg';
import type { Runner } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';

/** A file to run, identified by its path relative to the repository (used in error locations). */
export interface SqlFile {
  /** `NAME:path` for a file of a named repository (a project with several): included files are named the same way. */
  relativePath: string;
  absolutePath: string;
  /** The file's own repository (includes resolve in it and may not leave it); overrides `RunFilesOptions.root`. */
  root?: string | undefined;
}

/**
 * In-process runner. `single` (runFiles' default): run inside one transaction the runner opens
 * itself (as `psql -1` does, saving a commit per batch), committing it early only where a
 * statement needs that: before transaction control in the files or a statement that refuses a
 * transaction block (CREATE DATABASE, VACUUM, ... CONCURRENTLY, CALL), after
 * `ALTER TYPE ... ADD VALUE`, and every 1000 DDL statements (so the lock table cannot overflow).
 * A failure rolls back that transaction. `none`: statements run as sent (autocommit per batch,
 * or inside the caller's own transaction).
 */
export type TransactionMode = 'single' | 'none';

export interface RunFilesOptions {
  /** `inprocess` (default): one pg connection, batches + COPY streams. `psql`: `psql -X -v ON_ERROR_STOP=1 -f` per file. */
  runner?: Runner;
  /** The database the files run in; the psql runner connects to it itself. */
  target: DbTarget;
  /** The in-process runner's connection to `target` (the caller owns it); without one the runner opens and closes its own. */
  client?: pg.Client;
  /** Folder with psql (`[tools] pg_bin_dir`); PATH otherwise. */
  pgBinDir?: string | undefined;
  logger?: Logger;
  /** In-process: statements are joined into simple queries of about this many characters (default 64 KiB). */
  batchChars?: number;
  /** In-process: see TransactionMode (default `single`). */
  transaction?: TransactionMode;
  /** psql variables (`[repository] variables`): `-v NAME=value` for psql, substituted with psql's rules in-process. */
  variables?: Record<string, string> | undefined;
  /**
   * `refuse`: statements that act on the whole server (roles, role membership, ALTER SYSTEM,
   * tablespaces, CREATE/DROP DATABASE) and statements naming a database other than `:"DBNAME"`
   * (ALTER DATABASE, ALTER ROLE ... IN DATABASE, COMMENT/GRANT ... ON DATABASE) are refused
   * before anything runs, naming file:line:column (template builds). Default `allow`.
   */
  serverWide?: 'refuse' | 'allow' | undefined;
  /** The repository: includes may not leave it. Default: the folder the first file's `relativePath` is relative to. */
  root?: string | undefined;
  /** In-process: bytes read from a file at a time (default 96 KiB). */
  chunkBytes?: number | undefined;
}

export interface RunFilesResult {
  files: number;
  /** SQL statements run (COPY included; included files' statements included). */
  statements: number;
  /** Rows loaded by COPY ... FROM stdin (psql runner: the data lines counted in the files). */
  copyRows: number;
  /** In-process: queries sent (batches, lone statements, COPYs); 0 for the psql runner. */
  roundTrips: number;
  durationMs: number;
}

/**
 * `details` of a `SQL_ERROR` DbfastError (a statement failed on the server), so `--json` carries
 * them as fields: where in the source, and the server's own fields.
 */
export type { SqlErrorDetails } from './sql-error.js';
