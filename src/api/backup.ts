/*
 * The library's backup functions: each resolves the remote's backup scope (storage backend,
 * retention, the remote's connection) once, beside its lazily loaded implementation, and maps
 * operational failures to coded DbfastErrors.
 */
import { configOf, withModule, type ConfigSource, type With } from '../config/source.js';
import { mappingFailures } from '../failure/operational.js';
import type { Logger } from '../logger.js';

/** Which remote's backups, and where to say what happens. */
export interface BackupOptions extends ConfigSource {
  remote: string;
  logger?: Logger | undefined;
}

/** `withModule` for the backup functions, which take the remote's backup scope. */
async function withBackupScope<M, R>(options: BackupOptions, load: () => Promise<M>, call: (module: M, scope: import('../backup/scope.js').BackupScope) => Promise<R>): Promise<R> {
  return mappingFailures(async () => {
    const [config, { backupScope }, module] = await Promise.all([configOf(options), import('../backup/scope.js'), load()]);
    return call(module, backupScope(config, options.remote, { ...(options.logger ? { logger: options.logger } : {}), ...(options.env ? { env: options.env } : {}) }));
  });
}

/**
 * Backs up a remote (pg_dump, compressed, read back in full before it is listed), then applies
 * retention. A table locked by another session makes pg_dump wait, saying who holds it; with
 * `lockTimeoutMs` it gives up after that long with LOCK_TIMEOUT naming the holder.
 */
export async function createBackup(options: BackupOptions & { compression?: import('../config/types.js').Compression | undefined; lockTimeoutMs?: number | undefined }): Promise<import('../backup/create.js').CreateBackupResult & { summary: import('../backup/types.js').BackupSummary }> {
  return withBackupScope(options, () => Promise.all([import('../backup/create.js'), import('../backup/list.js')]), async ([create, list], scope) => {
    const result = await create.createBackup(scope, { ...(options.compression ? { compression: options.compression } : {}), lockTimeoutMs: options.lockTimeoutMs });
    return { ...result, summary: list.summarize(scope, result.backup) };
  });
}

/** A remote's backups, newest first, each with its health and where it is; where the store is; and what in it is not a backup. */
export async function listBackups(options: BackupOptions): Promise<{ backups: import('../backup/list.js').ListedBackup[]; warnings: string[]; location: string }> {
  return withBackupScope(options, () => import('../backup/list.js'), (module, scope) => module.listBackupEntries(scope));
}

/** Verifies one backup (`backupId`, or `latest`) or every one: size, sha256, readability; `restoreTest` restores it into a scratch database too. */
export async function verifyBackup(options: BackupOptions & { backupId?: string | undefined; restoreTest?: boolean | undefined }): Promise<import('../backup/verify.js').VerifyResult[]> {
  const verifyOptions = { restoreTest: options.restoreTest === true };
  return withBackupScope(options, () => import('../backup/verify.js'), async (module, scope) =>
    options.backupId ? [await module.verifyBackup(scope, options.backupId, verifyOptions)] : module.verifyAllBackups(scope, verifyOptions),
  );
}

/** Restores a backup over the remote's database (verified first; side database and swap, else in place in one transaction). Production needs `confirmed`. */
export async function restoreBackup(options: With<import('../backup/restore.js').RestoreBackupOptions>): Promise<import('../backup/restore.js').RestoreBackupResult> {
  return withModule(options, () => import('../backup/restore.js'), (module, config) => module.restoreBackup({ ...options, config }));
}

/** Deletes old backups by the retention rules (never the newest restorable one); only lists them without `confirm`. */
export async function pruneBackups(options: BackupOptions & import('../backup/prune.js').PruneOptions): Promise<import('../backup/prune.js').PruneResult> {
  return withBackupScope(options, () => import('../backup/prune.js'), (module, scope) => module.pruneBackups(scope, options));
}

/** Whether the newest verified backup is younger than `maxAge` (`24h`, `2d`): `ok` false otherwise, or when there is none. */
export async function checkBackups(options: BackupOptions & import('../backup/check.js').BackupCheckOptions): Promise<import('../backup/check.js').BackupCheckResult> {
  return withBackupScope(options, () => import('../backup/check.js'), (module, scope) => module.checkBackups(scope, options));
}
