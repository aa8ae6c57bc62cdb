import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import type { BackupScope } from './scope.js';
import { metadataFileName, readFolder, syncFolder } from './store.js';
import { isVerified, type BackupInfo } from './types.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `30d`, `12h`, `2w`, `90m` -> milliseconds. */
export function parseAge(text: string): number {
  const match = /^\s*(\d+)\s*([mhdw])\s*$/i.exec(text);
  if (!match) {
    throw new DbfastError('AGE_INVALID', `"${text}" is not an age`, { hint: 'Write a number and a unit: 90m, 12h, 30d or 2w.' });
  }
  return Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number);
}

export interface PruneCriteria {
  /** Keep the newest N. */
  keep?: number | undefined;
  /** Delete backups older than this many ms. */
  olderThanMs?: number | undefined;
  now?: Date;
}

export interface PrunePlan {
  /** Newest first, with the reason each is deleted. */
  remove: Array<{ backup: BackupInfo; reason: string }>;
  /** Backups the criteria would delete but that are protected, with why. */
  protected: Array<{ backup: BackupInfo; reason: string }>;
  keep: BackupInfo[];
}

/**
 * Decides what prune deletes. With both criteria a backup goes only when it meets both
 * (beyond the newest K and older than the age). The newest backup and the newest verified
 * one are never deleted.
 */
export function planPrune(backups: BackupInfo[], criteria: PruneCriteria): PrunePlan {
  if (criteria.keep === undefined && criteria.olderThanMs === undefined) {
    throw new DbfastError('PRUNE_CRITERIA', 'prune needs --keep N or --older-than AGE (or [backup] keep in dbfast.toml)', {
      hint: 'For example: dbfast backup prune --remote NAME --keep 10',
    });
  }
  if (criteria.keep !== undefined && (!Number.isInteger(criteria.keep) || criteria.keep < 1)) {
    throw new DbfastError('PRUNE_CRITERIA', `--keep must be a whole number of at least 1 (got ${criteria.keep})`);
  }
  const newest = [...backups].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const now = (criteria.now ?? new Date()).getTime();
  const newestVerified = newest.find(isVerified);
  const plan: PrunePlan = { remove: [], protected: [], keep: [] };
  newest.forEach((backup, index) => {
    const reasons: string[] = [];
    const beyondKeep = criteria.keep === undefined || index >= criteria.keep;
    const age = now - Date.parse(backup.createdAt);
    const oldEnough = criteria.olderThanMs === undefined || age > criteria.olderThanMs;
    if (criteria.keep !== undefined) reasons.push(`beyond the newest ${criteria.keep}`);
    if (criteria.olderThanMs !== undefined) reasons.push(`${Math.floor(age / 86_400_000)} days old`);
    if (!(beyondKeep && oldEnough)) {
      plan.keep.push(backup);
    } else if (index === 0) {
      plan.protected.push({ backup, reason: 'the newest backup is always kept' });
      plan.keep.push(backup);
    } else if (backup === newestVerified) {
      plan.protected.push({ backup, reason: 'the newest verified backup is always kept' });
      plan.keep.push(backup);
    } else {
      plan.remove.push({ backup, reason: reasons.join(', ') });
    }
  });
  return plan;
}

export interface PruneOptions {
  keep?: number | undefined;
  olderThan?: string | undefined;
  /** Without it nothing is deleted: the plan is only returned. */
  confirm?: boolean;
  now?: Date;
}

export interface PruneResult {
  plan: PrunePlan;
  dryRun: boolean;
  deleted: string[];
}

export async function pruneBackups(scope: BackupScope, options: PruneOptions = {}): Promise<PruneResult> {
  const keep = options.keep ?? (options.olderThan === undefined ? scope.keep : undefined);
  const olderThanMs = options.olderThan === undefined ? undefined : parseAge(options.olderThan);
  const { backups } = await readFolder(scope.folder);
  const plan = planPrune(backups, { keep, olderThanMs, ...(options.now ? { now: options.now } : {}) });
  if (!options.confirm) return { plan, dryRun: true, deleted: [] };
  const deleted: string[] = [];
  for (const { backup } of plan.remove) {
    // Metadata first: a half-deleted backup is then an orphan file, never a listed backup without its archive.
    await rm(path.join(scope.folder, metadataFileName(backup.id)), { force: true });
    await rm(path.join(scope.folder, backup.file), { force: true });
    deleted.push(backup.id);
  }
  if (deleted.length > 0) await syncFolder(scope.folder);
  return { plan, dryRun: false, deleted };
}
