import { DbfastError } from '../errors.js';
import type { BackupScope } from './scope.js';
import { healthIn, metadataFileName, readCatalog, writeMetadata, type Catalog } from './store.js';
import { checkChecksum } from './verify.js';
import type { BackupHealth, BackupInfo } from './types.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DAY_MS = 86_400_000;

/** `30d`, `12h`, `2w`, `90m` -> milliseconds. */
export function parseAge(text: string): number {
  const match = /^\s*(\d+)\s*([mhdw])\s*$/i.exec(text);
  if (!match) {
    throw new DbfastError('AGE_INVALID', `"${text}" is not an age`, { hint: 'Write a number and a unit: 90m, 12h, 30d or 2w.' });
  }
  return Number(match[1]) * (UNITS[(match[2] as string).toLowerCase()] as number);
}

/** Retention: a backup is kept while any rule keeps it. */
export interface PruneCriteria {
  /** Keep the newest N backups that are not damaged (`keep_last`, `--keep`). */
  keep?: number | undefined;
  /** Keep every backup younger than this many ms (`keep_days`, `--older-than`). */
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
 * Decides what goes. Only backups that are not damaged (last check failed, or archive of the
 * wrong size) count towards `keep`: a damaged backup never takes the place of a restorable
 * one. Never deleted, whatever the rules say: the newest backup, the newest verified one and
 * the newest restorable one (not damaged, verified or not), so prune never leaves a remote
 * without the backup it would restore.
 */
export function planPrune(backups: BackupInfo[], criteria: PruneCriteria, health: (info: BackupInfo) => BackupHealth): PrunePlan {
  if (criteria.keep === undefined && criteria.olderThanMs === undefined) {
    throw new DbfastError('PRUNE_CRITERIA', 'prune needs --keep-last N or --keep-days D (or [backup] keep_last / keep_days in dbfast.toml)', {
      hint: 'For example: dbfast backup prune --remote NAME --keep-last 10',
    });
  }
  if (criteria.keep !== undefined && (!Number.isInteger(criteria.keep) || criteria.keep < 1)) {
    throw new DbfastError('PRUNE_CRITERIA', `--keep-last must be a whole number of at least 1 (got ${criteria.keep})`);
  }
  const newest = [...backups].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  const now = (criteria.now ?? new Date()).getTime();
  const newestVerified = newest.find((b) => health(b) === 'verified');
  const newestRestorable = newest.find((b) => health(b) !== 'damaged');
  const plan: PrunePlan = { remove: [], protected: [], keep: [] };
  let counted = 0;
  newest.forEach((backup, index) => {
    const damaged = health(backup) === 'damaged';
    const withinCount = criteria.keep !== undefined && !damaged && counted < criteria.keep;
    if (!damaged) counted++;
    const age = now - Date.parse(backup.createdAt);
    const young = criteria.olderThanMs !== undefined && age <= criteria.olderThanMs;
    if (withinCount || young) {
      plan.keep.push(backup);
      return;
    }
    const protection =
      index === 0 ? 'the newest backup is always kept'
      : backup === newestVerified ? 'the newest verified backup is always kept'
      : backup === newestRestorable ? 'the newest restorable backup is always kept'
      : undefined;
    if (protection) {
      plan.protected.push({ backup, reason: protection });
      plan.keep.push(backup);
      return;
    }
    const reasons: string[] = [];
    if (damaged) reasons.push('damaged (its last check failed; not counted)');
    else if (criteria.keep !== undefined) reasons.push(`beyond the newest ${criteria.keep}`);
    if (criteria.olderThanMs !== undefined) reasons.push(`${Math.floor(age / DAY_MS)} days old`);
    plan.remove.push({ backup, reason: reasons.join(', ') });
  });
  return plan;
}

export interface PruneOptions {
  /** Overrides `keep_last` (`--keep-last`, `--keep`). */
  keep?: number | undefined;
  /** Overrides `keep_days`: an age such as 30d (`--older-than`). */
  olderThan?: string | undefined;
  /** Overrides `keep_days` (`--keep-days`). */
  keepDays?: number | undefined;
  /** Without it nothing is deleted: the plan is only returned. */
  confirm?: boolean;
  now?: Date;
}

export interface PruneResult {
  plan: PrunePlan;
  dryRun: boolean;
  deleted: string[];
}

/** The rules in force: flags when any is given, else `keep_last` / `keep_days` of the scope. */
export function retentionCriteria(scope: BackupScope, options: PruneOptions = {}): PruneCriteria {
  if (options.olderThan !== undefined && options.keepDays !== undefined) {
    throw new DbfastError('PRUNE_CRITERIA', 'give --older-than or --keep-days, not both (they are the same rule)');
  }
  const flagged = options.keep !== undefined || options.olderThan !== undefined || options.keepDays !== undefined;
  const keepDays = flagged ? options.keepDays : scope.keepDays;
  const olderThanMs = options.olderThan !== undefined ? parseAge(options.olderThan) : keepDays !== undefined ? keepDays * DAY_MS : undefined;
  return { keep: flagged ? options.keep : scope.keepLast, olderThanMs, ...(options.now ? { now: options.now } : {}) };
}

/** Deletes what the plan removes: metadata first, so a half-deleted backup is an orphan file, never a listed backup without its archive. */
export async function deletePlanned(scope: BackupScope, plan: PrunePlan): Promise<string[]> {
  const deleted: string[] = [];
  for (const { backup } of plan.remove) {
    await scope.storage.delete(metadataFileName(backup.id));
    await scope.storage.delete(backup.file);
    deleted.push(backup.id);
  }
  return deleted;
}

export async function pruneBackups(scope: BackupScope, options: PruneOptions = {}): Promise<PruneResult> {
  const criteria = retentionCriteria(scope, options);
  const catalog = await readCatalog(scope.storage);
  const plan = planPrune(catalog.backups, criteria, (info) => healthIn(catalog, info));
  if (!options.confirm) return { plan, dryRun: true, deleted: [] };
  const proven = plan.remove.length === 0 ? plan : await planOnProvenBackups(scope, catalog, criteria);
  return { plan: proven, dryRun: false, deleted: await deletePlanned(scope, proven) };
}

/**
 * The plan again, once the newest backup it keeps as restorable has been read back (size and
 * sha256 against its metadata). Its metadata may say "verified" while its archive was damaged
 * since (bit rot, a truncated copy of the same size): deleting the older backups on that word
 * could leave the remote without any restorable backup (issue 9.1). One that fails is recorded
 * as damaged, as `backup verify` records it, so it no longer counts towards `keep`, and the
 * next one is read; usually this reads one archive. Retention right after `backup create`
 * needs none of it: the newest backup was read back completely a moment before.
 */
async function planOnProvenBackups(scope: BackupScope, catalog: Catalog, criteria: PruneCriteria): Promise<PrunePlan> {
  const failed = new Set<string>();
  const health = (info: BackupInfo): BackupHealth => (failed.has(info.id) ? 'damaged' : healthIn(catalog, info));
  for (;;) {
    const plan = planPrune(catalog.backups, criteria, health);
    const candidate = plan.keep.find((info) => health(info) !== 'damaged');
    if (plan.remove.length === 0 || !candidate) return plan;
    const integrity = await checkChecksum(scope, candidate);
    if (integrity.ok) return plan;
    failed.add(candidate.id);
    scope.logger.warn(`backup ${candidate.id} is damaged (${integrity.problems.join('; ')}): it does not count towards keep`);
    await writeMetadata(scope.storage, { ...candidate, verified: { at: new Date().toISOString(), ok: false, problems: integrity.problems } });
  }
}

/**
 * Retention after a backup was made (`backup create`, a deploy's backup): applies `keep_last`
 * / `keep_days` when either is set; returns the deleted ids (none when neither is set).
 */
export async function applyRetention(scope: BackupScope, catalog?: Catalog): Promise<string[]> {
  if (scope.keepLast === undefined && scope.keepDays === undefined) return [];
  const read = catalog ?? (await readCatalog(scope.storage));
  const plan = planPrune(read.backups, retentionCriteria(scope), (info) => healthIn(read, info));
  return deletePlanned(scope, plan);
}
