import type pg from 'pg';
import type { Logger } from '../logger.js';
import { databaseExists, dropDatabase } from '../pg/catalog.js';
import { advisoryUnlock, tryAdvisoryLock } from '../pg/lock.js';
import { commentOwner, decodeSpare, isDbfastComment } from './manifest.js';
import { SIDE_NAME_SQL_PATTERN, parseSideName, sideLockKey, type SideKind } from './names.js';
import { isOwnedBy, type ProjectOwner } from './owner.js';

/** A side database nobody is working on: left by an interrupted command, or a replaced template. */
export interface Leftover {
  name: string;
  kind: SideKind;
  /** The template it belongs to. */
  base: string;
  comment: string | null;
}

interface Row {
  datname: string;
  comment: string | null;
  locked: boolean;
}

/**
 * Side-named databases on the server with whether their name lock is held, in one catalog
 * query (pg_locks shows advisory locks as classid = high, objid = low 32 bits of the key).
 */
async function sideDatabases(client: pg.Client): Promise<Row[]> {
  const result = await client.query<Row>(
    `SELECT d.datname, shobj_description(d.oid, 'pg_database') AS comment,
            EXISTS (SELECT 1 FROM pg_locks AS l
                     WHERE l.locktype = 'advisory' AND l.objsubid = 1
                       AND l.classid = ((k.key >> 32) & 4294967295)::oid AND l.objid = (k.key & 4294967295)::oid) AS locked
       FROM pg_database AS d
       CROSS JOIN LATERAL (SELECT hashtextextended('dbfast:db:' || d.datname, 0) AS key) AS k
      WHERE d.datname ~ $1`,
    [SIDE_NAME_SQL_PATTERN],
  );
  return result.rows;
}

/**
 * Whether a side-named database is this project's: its name's check matches the project, or
 * dbfast marked it for this project (or, before owners were recorded, for anyone).
 */
export function isOurSideDatabase(name: string, comment: string | null, owner: ProjectOwner): boolean {
  const parts = parseSideName(name, owner);
  if (!parts) return false;
  return parts.ours || (isDbfastComment(comment) && isOwnedBy(commentOwner(comment), owner));
}

/** This project's side databases, each with whether a live dbfast process still holds it. */
export async function findSideDatabases(client: pg.Client, owner: ProjectOwner): Promise<Array<Leftover & { inUse: boolean }>> {
  const out: Array<Leftover & { inUse: boolean }> = [];
  for (const row of await sideDatabases(client)) {
    if (!isOurSideDatabase(row.datname, row.comment, owner)) continue;
    const parts = parseSideName(row.datname) as NonNullable<ReturnType<typeof parseSideName>>;
    out.push({ name: row.datname, kind: parts.kind, base: parts.base, comment: row.comment, inUse: row.locked });
  }
  return out;
}

/** A finished spare is kept on purpose (spare.ts decides when it goes), not a leftover. */
function isFinishedSpare(database: Leftover): boolean {
  return database.kind === 'spare' && decodeSpare(database.comment) !== undefined;
}

/** This project's leftovers: side databases whose name lock nobody holds (finished spares excepted). */
export async function findLeftovers(client: pg.Client, owner: ProjectOwner): Promise<Leftover[]> {
  return (await findSideDatabases(client, owner)).filter((database) => !database.inUse && !isFinishedSpare(database)).map(({ inUse: _inUse, ...leftover }) => leftover);
}

/**
 * Drops one leftover under its name lock (so a process that just started using it, which cannot
 * happen for a random name but costs nothing to rule out, is never cut short). False when the
 * lock was taken meanwhile, or the database is gone once the lock is ours (another project's
 * worker reaped a leftover marked before owners were recorded, which every project may reap).
 */
export async function reapLeftover(client: pg.Client, name: string): Promise<boolean> {
  if (!(await tryAdvisoryLock(client, sideLockKey(name)))) return false;
  try {
    if (!(await databaseExists(client, name))) return false;
    await dropDatabase(client, name);
    return true;
  } finally {
    await advisoryUnlock(client, sideLockKey(name)).catch(() => undefined);
  }
}

/** Drops every leftover of this project; returns the names dropped. */
export async function reapLeftovers(client: pg.Client, owner: ProjectOwner, logger: Logger): Promise<string[]> {
  const dropped: string[] = [];
  for (const leftover of await findLeftovers(client, owner)) {
    try {
      if (await reapLeftover(client, leftover.name)) dropped.push(leftover.name);
    } catch (error) {
      logger.warn(`could not drop the leftover ${leftover.name}: ${(error as Error).message}`);
    }
  }
  return dropped;
}
