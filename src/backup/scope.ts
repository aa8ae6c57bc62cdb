import { findRemote, remoteTarget } from '../config/targets.js';
import { localTarget } from '../server/managed.js';
import type { Compression, DbfastConfig } from '../config/types.js';
import { silentLogger, type Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import path from 'node:path';
import { openBackupStorage } from './storage/open.js';
import type { BackupStorage } from './storage/types.js';

/** Everything the backup functions need about one remote, resolved from the config once. */
export interface BackupScope {
  remote: string;
  target: DbTarget;
  /** Where this remote's backups are: `<[backup] dir>/<remote>`, a folder or an S3 prefix. */
  storage: BackupStorage;
  compression: Compression;
  pgBinDir?: string | undefined;
  /** Production remotes and `require_confirmation`: restores need `confirmed`. */
  requireConfirmation: boolean;
  noOwner: boolean;
  noPrivileges: boolean;
  keepPrevious: boolean;
  /** `keep_last` (`[remotes.NAME.backup]`, else `[backup]`; `keep` is its old name). */
  keepLast?: number | undefined;
  /** `keep_days`, the same way. */
  keepDays?: number | undefined;
  /** Where a restore with parallel jobs puts its temporary decompressed copy (`.dbfast/tmp`). */
  tempDir: string;
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
    storage: openBackupStorage({ ...config.backup, ...remote.backup }, remote.name, env),
    compression: config.backup.compression,
    pgBinDir: config.tools.pgBinDir,
    requireConfirmation: remote.requireConfirmation,
    noOwner: remote.noOwner,
    noPrivileges: remote.noPrivileges,
    keepPrevious: remote.keepPrevious,
    keepLast: remote.backup.keepLast ?? config.backup.keepLast,
    keepDays: remote.backup.keepDays ?? config.backup.keepDays,
    tempDir: path.join(config.rootDir, '.dbfast', 'tmp'),
    localTarget: () => localTarget(config, env),
    logger: options.logger ?? silentLogger,
  };
}
