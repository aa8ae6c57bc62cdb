import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { registerCleanup } from '../cleanup.js';
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { connectMaintenance } from '../pg/admin.js';
import { commentStatement, databaseComment, databaseExists, dropDatabaseIfExists, endSessions, renameInOneTransaction, renameStatement, setAllowConnections, type TransactionStep } from '../pg/catalog.js';
import { quoteIdent } from '../pg/quote.js';
import type { DbTarget } from '../pg/target.js';
import type { SwapNames } from '../remote/names.js';
import { previousMarker, refuseForeignRenamedPrevious, sideMarker } from './leftover.js';

/** How `swapIn` treats clients that reconnect, and the replaced database. */
export interface SwapOptions {
  /** Attempts without blocking new connections, before blocking them (default 3; 0 blocks at once). */
  attempts?: number;
  /** Keep the replaced database as `previous` (default true); false drops it after the swap. */
  keepPrevious?: boolean;
  /**
   * Where to reconnect to re-allow connections to the live database if an interrupt comes while
   * they are blocked (the swap's own connection may be busy then). Default: the swap's client.
   */
  target?: DbTarget | undefined;
  /** Set as the live database's comment in the swap's transaction (null removes it); undefined leaves comments alone. */
  liveComment?: string | null | undefined;
}

/** What `swapIn` did. */
export interface SwapResult {
  /** Name the replaced database now has, or null (none existed, or it was dropped). */
  previous: string | null;
  /** Client sessions ended on the live database. */
  sessionsEnded: number;
}

const OBJECT_IN_USE = '55006';

/**
 * A name that exists only inside one rename transaction (a rotation needs a free slot). It is
 * never committed, so its length does not depend on the live name and nothing is left if the
 * transaction dies.
 */
function transientName(): string {
  return `dbfast_swap_${randomBytes(6).toString('hex')}`;
}

/**
 * Puts `side` in place of `live`, the old live database becoming `previous`, all renames in ONE
 * transaction: `live -> transient, side -> live, previous -> side, transient -> previous`. The
 * older previous database is only dropped after that commits (it then has the side's name), so
 * a swap that fails or is killed anywhere leaves live, side and previous as they were, and the
 * rollback target is never lost. A client that reconnects between the terminate and the rename
 * makes the rename fail; we retry, and in the end refuse new connections to the live database
 * for the moment of the swap (always allowed again, whatever happens). `client` must be
 * connected to a third database (e.g. `postgres`).
 */
export async function swapIn(client: pg.Client, names: Pick<SwapNames, 'live' | 'side' | 'previous'>, options: SwapOptions = {}): Promise<SwapResult> {
  const current = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
  if (current === names.live || current === names.side || current === names.previous) {
    throw new DbfastError('SWAP_FROM_TARGET', `cannot swap databases while connected to "${current}"`, {
      hint: 'Connect to a maintenance database (postgres or template1) for the swap.',
    });
  }
  if (!(await databaseExists(client, names.side))) {
    throw new DbfastError('SWAP_NO_SIDE', `database "${names.side}" does not exist; nothing to swap in`);
  }
  const liveExists = await databaseExists(client, names.live);
  const previousExists = liveExists && (await databaseExists(client, names.previous));
  const attempts = Math.max(0, options.attempts ?? 3);
  let sessionsEnded = 0;
  for (let attempt = 1; ; attempt++) {
    const block = liveExists && attempt > attempts;
    // Registered before blocking: an interrupt must never leave the live database closed.
    const unregister = block ? registerCleanup(() => allowAgain(client, names.live, options.target)) : undefined;
    try {
      if (block) await setAllowConnections(client, names.live, false);
      if (liveExists) sessionsEnded += await endSessions(client, names.live);
      await endSessions(client, names.side);
      if (previousExists) await endSessions(client, names.previous);
      await renameInOneTransaction(client, swapStatements(names, liveExists, previousExists, block, options.liveComment));
      unregister?.();
      break;
    } catch (error) {
      if (block) await setAllowConnections(client, names.live, true).catch(() => undefined);
      unregister?.();
      if (isDbfastError(error)) throw error;
      const inUse = (error as { code?: string }).code === OBJECT_IN_USE;
      if (!inUse || block) {
        const lost = operationalError(error, { doing: `swapping "${names.side}" in as "${names.live}"` });
        if (lost?.code === 'CONNECTION_LOST') throw lost;
        throw new DbfastError('SWAP_FAILED', `swapping "${names.side}" in as "${names.live}" failed, nothing was renamed: ${errorMessage(error)}`, {
          hint: inUse ? 'Clients keep reconnecting to the database; stop them and run the command again.' : undefined,
          cause: error,
        });
      }
    }
  }
  // The older previous database now has the side's name: only now, with the new one live, may it go.
  if (previousExists) await dropDatabaseIfExists(client, names.side);
  if (!liveExists) return { previous: null, sessionsEnded };
  if (options.keepPrevious === false) {
    await dropDatabaseIfExists(client, names.previous);
    return { previous: null, sessionsEnded };
  }
  return { previous: names.previous, sessionsEnded };
}

function swapStatements(names: Pick<SwapNames, 'live' | 'side' | 'previous'>, liveExists: boolean, previousExists: boolean, blocked: boolean, liveComment: string | null | undefined): TransactionStep[] {
  // After the renames, so it lands on the database that is now live (replacing a side's marker).
  const comment = liveComment === undefined ? [] : [commentStatement(names.live, liveComment)];
  if (!liveExists) return [renameStatement(names.side, names.live), ...comment];
  const transient = transientName();
  const statements: TransactionStep[] = previousExists
    ? [
        renameStatement(names.live, transient),
        renameStatement(names.side, names.live),
        renameStatement(names.previous, names.side),
        // The older previous database is dropped once this commits: only if dbfast kept it. Read
        // after its rename, which holds its lock: no comment can change before the commit.
        (tx) => refuseForeignRenamedPrevious(tx, names.live, names.previous, names.side),
        renameStatement(transient, names.previous),
        // The older previous database waits under the side name to be dropped: if this process dies first, the next run must recognise it.
        commentStatement(names.side, sideMarker(names.side)),
      ]
    : [renameStatement(names.live, names.previous), renameStatement(names.side, names.live)];
  // The kept copy is dbfast's from the moment it has the previous name (the live comment moves to the new database below).
  statements.push(commentStatement(names.previous, previousMarker(names.previous)));
  // The kept database must stay usable for a rollback (same transaction: all or nothing).
  if (blocked) statements.push(`ALTER DATABASE ${quoteIdent(names.previous)} ALLOW_CONNECTIONS true`);
  return [...statements, ...comment];
}

async function allowAgain(client: pg.Client, database: string, target: DbTarget | undefined): Promise<void> {
  if (!target) return setAllowConnections(client, database, true);
  const admin = await connectMaintenance(target, [database]);
  try {
    await setAllowConnections(admin.client, database, true);
  } finally {
    await admin.client.end().catch(() => undefined);
  }
}

/**
 * Exchanges the names of the live database and the kept previous one in one transaction
 * (through a transient third name), so the live name always points at one complete database.
 * The comments go with the names, not the databases: the live database's comment stays on the
 * live name and dbfast's marker on the previous name. Rolls back to the kept previous database,
 * and swaps back when checks after a deploy's swap fail. The caller has made sure `previous` is
 * dbfast's (`refuseForeignPrevious`).
 */
export async function exchangeDatabases(client: pg.Client, live: string, previous: string): Promise<void> {
  const liveComment = await databaseComment(client, live);
  await endSessions(client, live);
  await endSessions(client, previous);
  const transient = transientName();
  await renameInOneTransaction(client, [
    renameStatement(live, transient),
    renameStatement(previous, live),
    renameStatement(transient, previous),
    commentStatement(live, liveComment),
    commentStatement(previous, previousMarker(previous)),
  ]);
}
