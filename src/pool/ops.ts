import type pg from 'pg';
import { endSessionsOn, renameStatement } from '../pg/catalog.js';
import { dropMadeDatabase } from '../pg/drop.js';
import { advisoryLockStatement } from '../pg/lock.js';
import { quoteIdent, quoteLiteral } from '../pg/quote.js';
import { encodePoolMarker, leasedMarker, type PoolMarker } from './marker.js';
import { readDatabaseState, type DatabaseState } from './changes.js';
import { NOTIFY_CHANNEL, leaseLockKey, poolDatabaseName, type PoolState } from './names.js';
import { templateSnapshotSql } from './server.js';

/**
 * The state changes of a pooled database, each one statement batch: renames are the atomic
 * step (two processes cannot both rename the same database), the lease lock rides along in the
 * same implicit transaction, and a NOTIFY tells the other pools to look again.
 */

/** NOTIFY statement telling the other pools to look again (`event` is informational). */
export function notifySql(event: string, template: string): string {
  return `NOTIFY ${NOTIFY_CHANNEL}, ${quoteLiteral(JSON.stringify({ event, template }))}`;
}

function lockSql(oid: number, lock: 'lock' | 'unlock'): string {
  return advisoryLockStatement(leaseLockKey(oid), lock);
}

export type ClaimResult =
  | { kind: 'claimed'; name: string; templateOid: number | null; building: boolean; comment: string }
  /** Someone else claimed (or dropped) it first. */
  | { kind: 'gone' }
  /** Someone is connected to it: not ours to hand out. */
  | { kind: 'busy' };

/**
 * One round trip: reads whether the template is still the build this clone came from (and not
 * being rebuilt), renames the ready clone to a lease name and takes its lease lock on this session.
 */
export async function claim(control: pg.Client, ready: { name: string; oid: number; marker: PoolMarker }, template: string, buildLockKey: string): Promise<ClaimResult> {
  const name = poolDatabaseName(template, 'lease');
  const comment = encodePoolMarker(leasedMarker(ready.marker));
  try {
    const results = (await control.query(
      [
        templateSnapshotSql(template, buildLockKey),
        renameStatement(ready.name, name),
        `COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(comment)}`,
        lockSql(ready.oid, 'lock'),
        notifySql('claimed', template),
      ].join(';\n'),
    )) as unknown as Array<pg.QueryResult<{ oid: number | null; building: boolean }>>;
    const snapshot = results[0]?.rows[0];
    return { kind: 'claimed', name, templateOid: snapshot?.oid ?? null, building: snapshot?.building === true, comment };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === '3D000') return { kind: 'gone' };
    if (code === '55006') return { kind: 'busy' };
    throw error;
  }
}

/** Ends the database's sessions, then reads its state (undefined: it no longer exists). */
export async function terminateAndRead(work: pg.Client, oid: number): Promise<DatabaseState | undefined> {
  await endSessionsOn(work, oid);
  return readDatabaseState(work, oid);
}

/**
 * Renames a leased database (the release's barrier): PostgreSQL refuses while any backend is
 * still attached to it, even one that has already left pg_stat_activity but not yet flushed its
 * statistics, and waits up to 5 s for such backends to finish. Sessions that keep coming back are
 * terminated again, twice; after that the rename gives up (undefined).
 */
export async function renameReleased(work: pg.Client, from: string, oid: number, template: string, state: PoolState): Promise<string | undefined> {
  const to = poolDatabaseName(template, state);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await work.query(renameStatement(from, to));
      return to;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006') throw error;
      await endSessionsOn(work, oid);
    }
  }
  return undefined;
}

/** Back to the pool: renamed ready (free for anyone) and the lease lock released, atomically. */
export async function publish(control: pg.Client, leased: string, oid: number, template: string): Promise<string> {
  const name = poolDatabaseName(template, 'ready');
  await control.query([renameStatement(leased, name), lockSql(oid, 'unlock'), notifySql('ready', template)].join(';\n'));
  return name;
}

/** Hands a changed lease to whoever drops trash next (a long-lived pool, `pool fill`, `drop --stale`): renamed and unlocked at once. */
export async function trash(control: pg.Client, leased: string, oid: number, template: string): Promise<boolean> {
  const name = poolDatabaseName(template, 'trash');
  await control.query([renameStatement(leased, name), lockSql(oid, 'unlock'), notifySql('trash', template)].join(';\n'));
  return true;
}

/** Takes a lease's lock (again: a new control session after the old one was lost). */
export async function lockLease(control: pg.Client, oid: number): Promise<void> {
  await control.query(lockSql(oid, 'lock'));
}

export async function unlockLease(control: pg.Client, oid: number): Promise<void> {
  await control.query(lockSql(oid, 'unlock'));
}

/**
 * Drops a pooled database (it may still have sessions: a changed lease, a dead process's one; or
 * whatever a test did to it: IS_TEMPLATE, prepared transactions), then tells the other pools.
 * Returns what had to be cleared first, for a warning.
 */
export async function dropPooled(client: pg.Client, name: string, template: string): Promise<string[]> {
  const cleared = await dropMadeDatabase(client, name);
  await client.query(notifySql('dropped', template)).catch(() => undefined);
  return cleared;
}
