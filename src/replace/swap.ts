import type pg from 'pg';
import { registerCleanup } from '../cleanup.js';
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import { quoteIdent } from '../pg/quote.js';

/** PostgreSQL truncates longer names silently, which could make two names collide. */
const MAX_NAME_BYTES = 63;

export interface SwapNames {
  live: string;
  /** Where the new content is built: `<live>__dbfast_<purpose>`. */
  side: string;
  /** Where the replaced database is kept for rollback: `<live>__dbfast_prev`. */
  previous: string;
}

export function swapNames(live: string, purpose = 'restore'): SwapNames {
  const names = { live, side: `${live}__dbfast_${purpose}`, previous: `${live}__dbfast_prev` };
  for (const name of [names.side, names.previous]) {
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
      throw new DbfastError('NAME_TOO_LONG', `database name "${live}" is too long to derive "${name}" (PostgreSQL names are at most 63 bytes)`, {
        hint: `Use a database name of at most ${MAX_NAME_BYTES - (Buffer.byteLength(name) - Buffer.byteLength(live))} bytes.`,
      });
    }
  }
  return names;
}

/** The advisory-lock key that serialises restores and deploys of one database. */
export function databaseLockKey(database: string): string {
  return `dbfast:database:${database}`;
}

export interface EndSessionsOptions {
  /** How long to wait for terminated sessions to go away (default 10 s). */
  timeoutMs?: number;
}

/**
 * Terminates the client sessions on `database` and waits until they are gone. Background
 * workers (autovacuum) are left alone: the server ends those itself before DROP/RENAME.
 * Returns how many sessions were ended.
 */
export async function endSessions(client: pg.Client, database: string, options: EndSessionsOptions = {}): Promise<number> {
  const sessions = await client.query<{ pid: number; usename: string | null }>(
    `SELECT pid, usename FROM pg_stat_activity
     WHERE datname = $1 AND pid <> pg_backend_pid() AND coalesce(backend_type, 'client backend') = 'client backend'`,
    [database],
  );
  const refused: string[] = [];
  for (const session of sessions.rows) {
    try {
      await client.query('SELECT pg_terminate_backend($1)', [session.pid]);
    } catch (error) {
      refused.push(`pid ${session.pid} (${session.usename ?? 'another user'}): ${errorMessage(error)}`);
    }
  }
  if (refused.length > 0) {
    throw new DbfastError('SESSIONS_BLOCKING', `cannot end the sessions on database "${database}":\n  ${refused.join('\n  ')}`, {
      hint: 'Stop those clients, or grant the dbfast user pg_signal_backend (GRANT pg_signal_backend TO <user>).',
    });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const left = await client.query(
      `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND coalesce(backend_type, 'client backend') = 'client backend'`,
      [database],
    );
    if ((left.rowCount ?? 0) === 0) return sessions.rows.length;
    if (Date.now() > deadline) {
      throw new DbfastError('SESSIONS_BLOCKING', `sessions on database "${database}" did not end within ${options.timeoutMs ?? 10_000} ms`, {
        hint: 'Stop the clients that keep reconnecting, then run the command again.',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function exists(client: pg.Client, name: string): Promise<boolean> {
  return ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

/** Ends sessions on it, then drops it; nothing happens when it does not exist. */
export async function dropDatabaseIfExists(client: pg.Client, name: string): Promise<boolean> {
  if (!(await exists(client, name))) return false;
  await endSessions(client, name);
  await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
  return true;
}

export interface SwapOptions {
  /** Attempts without blocking new connections, before blocking them (default 3; 0 blocks at once). */
  attempts?: number;
  /** Keep the replaced database as `previous` (default true); false drops it after the swap. */
  keepPrevious?: boolean;
}

export interface SwapResult {
  /** Name the replaced database now has, or null (none existed, or it was dropped). */
  previous: string | null;
  /** Client sessions ended on the live database. */
  sessionsEnded: number;
}

const OBJECT_IN_USE = '55006';

/**
 * Puts `side` in place of `live`: ends sessions on both, then renames live -> previous and
 * side -> live in ONE transaction, so either both renames happen or neither. An older
 * `previous` is dropped first. A client that reconnects between the terminate and the
 * rename makes the rename fail; we retry, and in the end refuse new connections to the
 * live database for the moment of the swap (always allowed again, whatever happens).
 * `client` must be connected to a third database (e.g. `postgres`).
 */
export async function swapIn(client: pg.Client, names: SwapNames, options: SwapOptions = {}): Promise<SwapResult> {
  const current = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
  if (current === names.live || current === names.side || current === names.previous) {
    throw new DbfastError('SWAP_FROM_TARGET', `cannot swap databases while connected to "${current}"`, {
      hint: 'Connect to a maintenance database (postgres or template1) for the swap.',
    });
  }
  if (!(await exists(client, names.side))) {
    throw new DbfastError('SWAP_NO_SIDE', `database "${names.side}" does not exist; nothing to swap in`);
  }
  const liveExists = await exists(client, names.live);
  if (liveExists) await dropDatabaseIfExists(client, names.previous);

  const attempts = Math.max(0, options.attempts ?? 3);
  let sessionsEnded = 0;
  for (let attempt = 1; ; attempt++) {
    const block = liveExists && attempt > attempts;
    // Registered before blocking: an interrupt must never leave the live database closed.
    const unregister = block ? registerCleanup(() => setAllowConnections(client, names.live, true)) : undefined;
    try {
      if (block) await setAllowConnections(client, names.live, false);
      sessionsEnded += await renameBoth(client, names, liveExists, block);
      unregister?.();
      break;
    } catch (error) {
      if (block) await setAllowConnections(client, names.live, true).catch(() => undefined);
      unregister?.();
      if (isDbfastError(error)) throw error;
      const inUse = (error as { code?: string }).code === OBJECT_IN_USE;
      if (!inUse || block) {
        throw new DbfastError('SWAP_FAILED', `swapping "${names.side}" in as "${names.live}" failed, nothing was renamed: ${errorMessage(error)}`, {
          hint: inUse ? 'Clients keep reconnecting to the database; stop them and run the command again.' : undefined,
          cause: error,
        });
      }
    }
  }
  if (!liveExists) return { previous: null, sessionsEnded };
  if (options.keepPrevious === false) {
    await dropDatabaseIfExists(client, names.previous);
    return { previous: null, sessionsEnded };
  }
  return { previous: names.previous, sessionsEnded };
}

async function renameBoth(client: pg.Client, names: SwapNames, liveExists: boolean, blocked: boolean): Promise<number> {
  let ended = 0;
  if (liveExists) ended = await endSessions(client, names.live);
  await endSessions(client, names.side);
  await client.query('BEGIN');
  try {
    await client.query("SET LOCAL lock_timeout = '10s'");
    if (liveExists) await client.query(`ALTER DATABASE ${quoteIdent(names.live)} RENAME TO ${quoteIdent(names.previous)}`);
    await client.query(`ALTER DATABASE ${quoteIdent(names.side)} RENAME TO ${quoteIdent(names.live)}`);
    // The kept database must stay usable for a rollback (same transaction: all or nothing).
    if (blocked) await client.query(`ALTER DATABASE ${quoteIdent(names.previous)} ALLOW_CONNECTIONS true`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return ended;
}

async function setAllowConnections(client: pg.Client, database: string, allow: boolean): Promise<void> {
  await client.query(`ALTER DATABASE ${quoteIdent(database)} ALLOW_CONNECTIONS ${allow}`);
}
