import type { BackupScope } from './scope.js';
import { healthIn, readCatalog } from './store.js';
import { lastCheck, type BackupHealth, type BackupInfo, type BackupSummary } from './types.js';

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

/** A backup as `backup list` shows it (and prints it with --json). */
export interface ListedBackup extends BackupSummary {
  health: BackupHealth;
  verified: boolean;
  verifiedAt: string | null;
  verifiedByRestore: { at: string; ok: boolean } | null;
  /** Why it is damaged: its stored size, else its last check's first problem. */
  problem: string | null;
}

/** `listBackups` as `backup list` shows it: each backup's summary and health, where the store is, what in it is not a backup. */
export async function listBackupEntries(scope: BackupScope): Promise<{ backups: ListedBackup[]; warnings: string[]; location: string }> {
  const listing = await listBackups(scope);
  const backups = listing.backups.map((info) => ({
    ...summarize(scope, info),
    health: listing.health[info.id] ?? 'unverified',
    verified: listing.health[info.id] === 'verified',
    verifiedAt: info.verified?.at ?? null,
    verifiedByRestore: info.verifiedByRestore ? { at: info.verifiedByRestore.at, ok: info.verifiedByRestore.ok } : null,
    problem: listing.problems[info.id] ?? lastCheck(info)?.problems[0] ?? null,
  }));
  return { backups, warnings: listing.warnings, location: scope.storage.location };
}

