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
