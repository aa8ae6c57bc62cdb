import type pg from 'pg';
import { DbfastError } from '../errors.js';

/**
 * Session-level advisory locks keyed by text (hashed server-side), so two dbfast processes
 * on one server agree on the key without sharing anything else.
 */
export async function tryAdvisoryLock(client: pg.Client, key: string): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
    [key],
  );
  return result.rows[0]?.locked === true;
}

export async function advisoryUnlock(client: pg.Client, key: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
}

export interface LockWaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** Called once when the lock is busy, so callers can tell the user they are waiting. */
  onWait?: () => void;
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
