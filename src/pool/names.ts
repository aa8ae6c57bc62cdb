import { randomBytes } from 'node:crypto';
import os from 'node:os';

/**
 * How pooled databases are named, and the keys and session names the pool agrees on through the
 * server. A pooled database's state is its name, so every state change is one atomic
 * `ALTER DATABASE ... RENAME` that two processes cannot both win:
 *
 *   <template>__dbfast_ready_<hex>   complete, provably unchanged, free for anyone to claim
 *   <template>__dbfast_lease_<hex>   handed out; its lessee's session holds the lease lock
 *   <template>__dbfast_trash_<hex>   changed or stale, waiting to be dropped
 *   <template>__dbfast_kept_<hex>    released with `keep: true`: the user's now, never reaped
 *
 * The suffixes fit in the room local/names.ts keeps free after a template name (23 bytes).
 */
export type PoolState = 'ready' | 'lease' | 'trash' | 'kept';

const NAME = /^(.+)__dbfast_(ready|lease|trash|kept)_([0-9a-f]{8})$/;

/** The pooled states a database counts against `max_clones` in (kept ones are the user's). */
export const CAPPED_STATES: readonly PoolState[] = ['ready', 'lease', 'trash'];

/** SQL regular expression matching every pooled database name (capped states only). */
export const CAPPED_NAME_REGEX = '__dbfast_(ready|lease|trash)_[0-9a-f]{8}$';

export function randomHex(): string {
  return randomBytes(4).toString('hex');
}

export function poolDatabaseName(template: string, state: PoolState, hex: string = randomHex()): string {
  return `${template}__dbfast_${state}_${hex}`;
}

export interface ParsedPoolName {
  template: string;
  state: PoolState;
  hex: string;
}

export function parsePoolName(name: string): ParsedPoolName | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  return { template: match[1] as string, state: match[2] as PoolState, hex: match[3] as string };
}

/**
 * The lease lock: a session-level advisory lock keyed by the database's oid (stable across the
 * renames of a release), held by the lessee's control session for as long as the lease lasts.
 * A lease database whose lock nobody holds belongs to a process that is gone.
 */
export function leaseLockKey(oid: number): string {
  return `dbfast:lease:${oid}`;
}

/** Transaction lock that serialises "count the pooled databases, then reserve one" on a server. */
export const CAP_LOCK_KEY = 'dbfast:pool:cap';

/** Session lock held around a FILE_COPY clone: each forces two checkpoints, so one at a time per server. */
export const FILE_COPY_LOCK_KEY = 'dbfast:clone:file_copy';

/** LISTEN/NOTIFY channel on which pools tell each other that a ready database appeared or went. */
export const NOTIFY_CHANNEL = 'dbfast_pool';

const APPLICATION_NAME_BYTES = 63;

/** application_name of a pool's sessions: names the owner process in pg_stat_activity (visible to every role). */
export function ownerApplicationName(): string {
  return `dbfast pool ${process.pid}@${os.hostname()}`.slice(0, APPLICATION_NAME_BYTES);
}

/**
 * application_name a session takes while it creates a pooled database: the reservation that
 * other processes count against the cap, and the proof that an unmarked `ready` database is still
 * being made (without such a session it is an orphan of a killed process).
 */
export function creatingApplicationName(hex: string, templateOid: number): string {
  return `dbfast creating ${hex} ${templateOid}`;
}

export function parseCreatingApplicationName(name: string | null): { hex: string; templateOid: number } | undefined {
  const match = /^dbfast creating ([0-9a-f]{8}) (\d+)$/.exec(name ?? '');
  return match ? { hex: match[1] as string, templateOid: Number(match[2]) } : undefined;
}
