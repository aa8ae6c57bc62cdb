import type { BackupScope } from './scope.js';
import { healthIn, readCatalog } from './store.js';
import type { BackupHealth, BackupInfo, BackupSummary } from './types.js';

export interface BackupListing {
  /** Newest first. */
  backups: BackupInfo[];
  /** Per backup id: verified (last check passed), unverified, or damaged (last check failed, or the stored archive has the wrong size). */
  health: Record<string, BackupHealth>;
  /** Why a backup is damaged when its stored size says so, by id. */
  problems: Record<string, string>;
  /** Things in the store that are not backups (orphans, unreadable metadata, leftovers). */
  warnings: string[];
}

export async function listBackups(scope: BackupScope): Promise<BackupListing> {
  const catalog = await readCatalog(scope.storage);
  const warnings = [...catalog.warnings];
  for (const removed of catalog.removed) warnings.push(`removed ${removed}: left by an interrupted backup`);
  const health: Record<string, BackupHealth> = {};
  for (const info of catalog.backups) health[info.id] = healthIn(catalog, info);
  return { backups: catalog.backups, health, problems: Object.fromEntries(catalog.damaged), warnings };
}

/** The newest backup whose last check passed, or undefined. */
export function newestVerified(listing: BackupListing): BackupInfo | undefined {
  return listing.backups.find((info) => listing.health[info.id] === 'verified');
}

/** The fields printed for a backup, with where its archive is (a path, or an s3:// URL). */
export function summarize(scope: BackupScope, info: BackupInfo): BackupSummary {
  return {
    id: info.id,
    file: scope.storage.describe(info.file),
    createdAt: info.createdAt,
    sizeBytes: info.sizeBytes,
    sha256: info.sha256,
    compression: info.compression,
    database: info.database,
    remote: info.remote,
  };
}
