import type pg from 'pg';
import { DbfastError } from '../errors.js';
import { quoteLiteral } from './quote.js';
import { connectMaintenance, type AdminConnection } from './admin.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from './target.js';

/*
 * Session-level advisory locks keyed by text (hashed server-side), so two dbfast processes
 * on one server agree on the key without sharing anything else.
 */

/** One attempt; true when the lock is ours now. */
export async function tryAdvisoryLock(client: pg.Client, key: string): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
    [key],
  );
  return result.rows[0]?.locked === true;
}

/** The advisory-lock functions a batched statement can call (`pg_advisory_<kind>`). */
export type AdvisoryLockKind = 'lock' | 'unlock' | 'xact_lock' | 'lock_shared' | 'unlock_shared' | 'try_lock_shared';

/** `hashtextextended('<key>', 0)`: the server-side key of a text lock key, the same hash every function here uses. */
export function advisoryKeySql(key: string): string {
  return `hashtextextended(${quoteLiteral(key)}, 0)`;
}

/**
 * `SELECT pg_advisory_<kind>(...)` for a text key, as SQL text: for batches of statements sent in
 * one round trip (one implicit transaction), where parameters cannot be used. The key is quoted.
 */
export function advisoryLockStatement(key: string, kind: AdvisoryLockKind): string {
  return `SELECT pg_advisory_${kind}(${advisoryKeySql(key)})`;
}

/**
 * Runs `fn` holding the lock, waiting for it in the server's lock queue (first come, first
 * served; no polling), and always unlocks. For short critical sections only: it waits without
 * a timeout. `withAdvisoryLock` is the one to use when waiting must be bounded or announced.
 */
export async function withQueuedAdvisoryLock<T>(client: pg.Client, key: string, fn: () => Promise<T>): Promise<T> {
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
  try {
    return await fn();
  } finally {
    await advisoryUnlock(client, key).catch(() => undefined);
  }
}

/** Releases a lock this session holds. */
export async function advisoryUnlock(client: pg.Client, key: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
}

/** True while some session holds the advisory lock `key` in any session (as the functions here take it), read from pg_locks. */
export async function advisoryLockHeld(client: pg.Client, key: string): Promise<boolean> {
  const result = await client.query<{ held: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_locks AS l, (SELECT hashtextextended($1, 0) AS key) AS k
                     WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
                       AND l.classid = ((k.key >> 32) & 4294967295)::oid AND l.objid = (k.key & 4294967295)::oid) AS held`,
    [key],
  );
  return result.rows[0]?.held === true;
}

/** How long to wait for a lock, and whom to tell. */
export interface LockWaitOptions {
  timeoutMs?: number | undefined;
  pollMs?: number;
  /** Called once when the lock is busy, so callers can tell the user they are waiting. */
  onWait?: (() => void) | undefined;
}

/** Waits for the lock; with `timeoutMs` gives up with LOCK_TIMEOUT. */
export async function acquireAdvisoryLock(client: pg.Client, key: string, options: LockWaitOptions = {}): Promise<void> {
  const started = Date.now();
  let told = false;
  for (;;) {
    if (await tryAdvisoryLock(client, key)) return;
    if (!told) {
      options.onWait?.();
      told = true;
    }
    if (options.timeoutMs !== undefined && Date.now() - started >= options.timeoutMs) {
      throw new DbfastError('LOCK_TIMEOUT', `another dbfast process holds the lock "${key}"`, {
        hint: 'Wait for the other operation to finish, or raise --lock-timeout.',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}

/** Runs `fn` holding the lock on `client`'s session; always unlocks. */
export async function withAdvisoryLock<T>(
  client: pg.Client,
  key: string,
  fn: () => Promise<T>,
  options?: LockWaitOptions,
): Promise<T> {
  await acquireAdvisoryLock(client, key, options);
  try {
    return await fn();
  } finally {
    await advisoryUnlock(client, key).catch(() => undefined);
  }
}

/** The advisory-lock key that serialises deploys, restores, rollbacks and migration runs of one database. */
export function databaseLockKey(database: string): string {
  return `dbfast:database:${database}`;
}

/** How `withDatabaseLock` waits, and which databases its connection avoids. */
export interface DatabaseLockOptions {
  /** Give up with LOCK_TIMEOUT after this long; default: wait. */
  timeoutMs?: number | undefined;
  /** Told once when another dbfast process holds the lock, so the user knows why nothing happens. */
  logger?: Logger | undefined;
  /** Databases the maintenance connection must not be to (besides `database`): the ones about to be renamed. */
  avoid?: readonly string[] | undefined;
}

/**
 * The one way work on a remote database is serialised: connect to the server's maintenance
 * database, take the database's advisory lock (waiting, or giving up after `timeoutMs`), run
 * `fn` with that connection, and always unlock and disconnect. A process that dies releases the
 * lock with its connection.
 */
export async function withDatabaseLock<T>(target: DbTarget, database: string, options: DatabaseLockOptions, fn: (admin: AdminConnection) => Promise<T>): Promise<T> {
  const admin = await connectMaintenance(target, [database, ...(options.avoid ?? [])]);
  const key = databaseLockKey(database);
  try {
    await acquireAdvisoryLock(admin.client, key, {
      timeoutMs: options.timeoutMs,
      onWait: () => options.logger?.info(`another dbfast operation holds database "${database}"; waiting for it to finish`),
    });
    return await fn(admin);
  } finally {
    await advisoryUnlock(admin.client, key).catch(() => undefined);
    await admin.client.end().catch(() => undefined);
  }
}
