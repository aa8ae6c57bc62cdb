import type pg from 'pg';
import type { Runner } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';

/** A file to run, identified by its path relative to the repository (used in error locations). */
export interface SqlFile {
  relativePath: string;
  absolutePath: string;
}

export interface RunFilesOptions {
  /** `inprocess` (default): one pg connection, batches + COPY streams. `psql`: `psql -X -v ON_ERROR_STOP=1 -f` per file. */
  runner?: Runner;
  /** The database the files run in; the psql runner connects to it itself. */
  target: DbTarget;
  /** The in-process runner's connection to `target` (the caller owns it). */
  client?: pg.Client;
  /** Folder with psql (`[tools] pg_bin_dir`); PATH otherwise. */
  pgBinDir?: string | undefined;
  logger?: Logger;
}

export interface RunFilesResult {
  files: number;
  statements: number;
  copyRows: number;
  durationMs: number;
}
