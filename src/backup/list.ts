import path from 'node:path';
import type { BackupScope } from './scope.js';
import { readFolder } from './store.js';
import type { BackupInfo, BackupSummary } from './types.js';

export interface BackupListing {
  /** Newest first. */
  backups: BackupInfo[];
  /** Files in the folder that are not backups (orphans, unreadable metadata, leftovers). */
  warnings: string[];
}

export async function listBackups(scope: BackupScope): Promise<BackupListing> {
  const { backups, warnings, partials } = await readFolder(scope.folder);
  for (const name of partials) warnings.push(`${name}: left by an interrupted backup; the next create removes it`);
  return { backups, warnings };
}

/** The fields printed for a backup, with the archive's absolute path. */
export function summarize(scope: BackupScope, info: BackupInfo): BackupSummary {
  return {
    id: info.id,
    file: path.join(scope.folder, info.file),
    createdAt: info.createdAt,
    sizeBytes: info.sizeBytes,
    sha256: info.sha256,
    compression: info.compression,
    database: info.database,
    remote: info.remote,
  };
}
