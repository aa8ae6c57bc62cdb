import type { DbfastConfig } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { readLocalHistory, readRemoteHistory, type DeployRecord } from './records.js';
import { remoteElseLocal } from './summary.js';

/** Which remote's history, and how much of it. */
export interface HistoryOptions {
  config: DbfastConfig;
  remote: string;
  /** How many records, newest first (default 20). */
  limit?: number | undefined;
  /** Read this machine's history even when the remote can be read. */
  local?: boolean | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** A remote's records, newest first, and where they were read. */
export interface HistoryResult {
  remote: string;
  source: 'remote' | 'local';
  deploys: DeployRecord[];
}

/** Every deploy, rollback, restore and migration run of a remote, newest first, with phases and hook output. */
export async function deployHistory(options: HistoryOptions): Promise<HistoryResult> {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new DbfastError('USAGE', `--limit takes a whole number of at least 1, not "${String(options.limit)}"`, { hint: 'e.g. --limit 50' });
  }
  const { source, value } = await remoteElseLocal(
    { config: options.config, remote: options.remote, env: options.env, logger: options.logger ?? silentLogger, localOnly: options.local },
    (client) => readRemoteHistory(client, limit),
    () => readLocalHistory(options.config, options.remote, limit),
  );
  return { remote: options.remote, source, deploys: value };
}

/** Every remote's history, or the options to read it. */
export type AllHistoryOptions = Omit<HistoryOptions, 'remote'>;

/** The records of every remote, merged newest first, and where each remote's were read. */
export interface AllHistoryResult {
  /** Each remote of dbfast.toml, in file order, with where its records came from. */
  remotes: Array<{ remote: string; source: 'remote' | 'local' }>;
  /** Newest first across all remotes, at most `limit`. */
  deploys: DeployRecord[];
}

/**
 * `history` without `--remote`: each remote's history read the usual way (its own table, else
 * this machine's file), merged newest first. A run seen twice (two remote names for one
 * database share its history table) is listed once.
 */
export async function allRemotesHistory(options: AllHistoryOptions): Promise<AllHistoryResult> {
  const names = Object.keys(options.config.remotes);
  const results = await Promise.all(names.map((remote) => deployHistory({ ...options, remote })));
  const seen = new Set<string>();
  const deploys = results
    .flatMap((result) => result.deploys)
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
    .filter((record) => !seen.has(record.deployId) && seen.add(record.deployId) !== undefined);
  return { remotes: results.map(({ remote, source }) => ({ remote, source })), deploys: deploys.slice(0, options.limit ?? 20) };
}
