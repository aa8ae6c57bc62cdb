import { findRemote, localTarget, remoteTarget } from '../config/targets.js';
import type { Compression, DbfastConfig } from '../config/types.js';
import { silentLogger, type Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import { remoteFolder } from './store.js';

/** Everything the backup functions need about one remote, resolved from the config once. */
export interface BackupScope {
  remote: string;
  target: DbTarget;
  /** `<[backup] dir>/<remote>`. */
  folder: string;
  compression: Compression;
  pgBinDir?: string | undefined;
  /** Production remotes and `require_confirmation`: restores need `confirmed`. */
  requireConfirmation: boolean;
  noOwner: boolean;
  noPrivileges: boolean;
  keepPrevious: boolean;
  /** `[backup] keep`: the default of prune --keep. */
  keep?: number | undefined;
  /** The local server: where restore tests go when the remote user cannot create databases. */
  localTarget?: (() => Promise<DbTarget>) | undefined;
  logger: Logger;
}

export interface ScopeOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export function backupScope(config: DbfastConfig, remoteName: string, options: ScopeOptions = {}): BackupScope {
  const remote = findRemote(config, remoteName);
  const env = options.env ?? process.env;
  let target: DbTarget | undefined;
  return {
    remote: remote.name,
    // Resolved on first use: listing or pruning backups needs no password.
    get target(): DbTarget {
      target ??= remoteTarget(remote, env);
      return target;
    },
    folder: remoteFolder(config.backup.dir, remote.name),
    compression: config.backup.compression,
    pgBinDir: config.tools.pgBinDir,
    requireConfirmation: remote.requireConfirmation,
    noOwner: remote.noOwner,
    noPrivileges: remote.noPrivileges,
    keepPrevious: remote.keepPrevious,
    keep: config.backup.keep,
    localTarget: () => localTarget(config, env),
    logger: options.logger ?? silentLogger,
  };
}
