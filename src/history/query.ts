import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { readLocalHistory, readRemoteHistory, type DeployRecord } from './records.js';

export interface HistoryResult {
  remote: string;
  source: 'remote' | 'local';
  deploys: DeployRecord[];
}

/** The remote's own record (it survives swaps and is shared by everyone); the local copy when asked or unreachable. */
export async function deployHistory(options: { config: DbfastConfig; remote: string; limit: number; local?: boolean; logger?: Logger; env?: NodeJS.ProcessEnv }): Promise<HistoryResult> {
  const remote = findRemote(options.config, options.remote);
  const logger = options.logger ?? silentLogger;
  const limit = Number.isFinite(options.limit) && options.limit > 0 ? Math.floor(options.limit) : 20;
  if (!options.local) {
    try {
      const deploys = await withClient(remoteTarget(remote, options.env), (client) => readRemoteHistory(client, limit));
      return { remote: remote.name, source: 'remote', deploys };
    } catch (error) {
      logger.warn(`cannot read the history on the remote (${errorMessage(error)}); showing the local history`);
    }
  }
  return { remote: remote.name, source: 'local', deploys: await readLocalHistory(options.config, remote.name, limit) };
}
