import { listBackups, newestVerified } from './list.js';
import { parseAge } from './prune.js';
import type { BackupScope } from './scope.js';

export interface BackupCheckOptions {
  /** `24h`, `2d`: the oldest the newest verified backup may be. */
  maxAge: string;
  now?: Date;
}

export interface BackupCheckResult {
  remote: string;
  /** Where the backups are (a folder, or s3://...). */
  location: string;
  ok: boolean;
  maxAgeMs: number;
  /** The newest backup whose last check passed, or null when there is none. */
  newestVerified: { id: string; createdAt: string; ageMs: number } | null;
  /** Backups in the store, verified or not. */
  backups: number;
  /** Why the check failed, or null. */
  problem: string | null;
}

/**
 * For cron and alerting: is there a verified backup (its last check passed: `backup create`
 * reads every backup back) younger than `maxAge`? Unverified and damaged backups do not count.
 */
export async function checkBackups(scope: BackupScope, options: BackupCheckOptions): Promise<BackupCheckResult> {
  const maxAgeMs = parseAge(options.maxAge);
  const now = (options.now ?? new Date()).getTime();
  const listing = await listBackups(scope);
  const newest = newestVerified(listing);
  const base = { remote: scope.remote, location: scope.storage.location, maxAgeMs, backups: listing.backups.length };
  if (!newest) {
    const problem = listing.backups.length === 0 ? 'there are no backups' : `none of the ${listing.backups.length} backups is verified`;
    return { ...base, ok: false, newestVerified: null, problem };
  }
  const ageMs = now - Date.parse(newest.createdAt);
  const ok = ageMs <= maxAgeMs;
  return {
    ...base,
    ok,
    newestVerified: { id: newest.id, createdAt: newest.createdAt, ageMs },
    problem: ok ? null : `the newest verified backup, ${newest.id}, is older than ${options.maxAge}`,
  };
}
