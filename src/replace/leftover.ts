import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { createDatabaseLike, type DatabaseFacts } from '../pg/admin.js';
import { changeDatabases, dropDatabaseIfExists } from '../pg/catalog.js';
import { advisoryUnlock, tryAdvisoryLock } from '../pg/lock.js';
import { databaseComments, foreignPreviousProblem, foreignSidesProblem, previousMarker, previousNameProblem, sideMarker, type SwapNameProblem } from '../pg/swap-markers.js';

export { previousMarker, sideMarker } from '../pg/swap-markers.js';

/*
 * A remote's side names (`<db>__dbfast_new`, `<db>__dbfast_restore`) are plain names anybody can
 * give a database, so a database with one is only dropped as "left behind by an interrupted run"
 * when its comment is dbfast's marker. The marker must be there from the moment the side name
 * exists, or a run killed between CREATE DATABASE and COMMENT would leave an unmarked database
 * that the next run refuses to touch. CREATE DATABASE cannot run in a transaction, so the side
 * database is created under a transient name of dbfast's own (`dbfast_side_<random>`), and ONE
 * transaction then comments it and renames it to the side name: the side name never exists
 * unmarked. A run killed before that transaction leaves only a `dbfast_side_` database; like a
 * restore test's scratch database, its creator holds an advisory lock named after it while it
 * lives, so one whose lock is free belongs to a dead process and the next run drops it.
 * The marker is replaced by the live database's own comment in the swap's transaction.
 *
 * The previous copy a swap keeps (`<db>__dbfast_prev`) is marked the same way, in the swap's
 * own transaction: the database that leaves the live name gets `previousMarker` as it gets the
 * previous name (its comment stays with the live name, which the new database takes over). A
 * rollback's exchange moves the live comment and the marker along with the names. So only a
 * copy dbfast kept is ever renamed, swapped back or dropped as "the previous database".
 * Upgrade: a previous copy kept by a dbfast from before this marker has none (it still has the
 * live database's comment) and cannot be told from a user's database of that name, so it is
 * refused like one; the hint gives the statement that marks it, for whoever knows it is
 * dbfast's and wants to keep it as the rollback target.
 */

const TRANSIENT_PREFIX = 'dbfast_side_';
const TRANSIENT_NAME = /^dbfast_side_[0-9a-f]{12}$/;

function transientLockKey(name: string): string {
  return `dbfast:side:${name}`;
}

/**
 * Drops the side databases in `sides` that an interrupted run left behind, and transient
 * databases of dead processes. Refuses (SIDE_NAME_TAKEN) before dropping anything when a
 * database with a side name lacks dbfast's marker: somebody else made it.
 */
export async function dropLeftoverSides(client: pg.Client, sides: readonly string[], logger: Logger): Promise<void> {
  const found = await databaseComments(client, sides);
  const foreign = foreignSidesProblem(found);
  if (foreign) throw new DbfastError('SIDE_NAME_TAKEN', foreign.message, { hint: foreign.hint, details: { databases: foreign.databases } });
  for (const name of found.keys()) {
    if (await dropDatabaseIfExists(client, name)) logger.info(`dropped "${name}", left behind by an interrupted run`);
  }
  const transients = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1', [TRANSIENT_PREFIX]);
  for (const { datname } of transients.rows) {
    if (!TRANSIENT_NAME.test(datname) || !(await tryAdvisoryLock(client, transientLockKey(datname)))) continue;
    try {
      if (await dropDatabaseIfExists(client, datname)) logger.info(`dropped "${datname}", left behind by an interrupted run`);
    } catch (error) {
      logger.warn(`could not drop "${datname}", left behind by an interrupted run: ${errorMessage(error)}`);
    } finally {
      await advisoryUnlock(client, transientLockKey(datname)).catch(() => undefined);
    }
  }
}

/**
 * Refuses (SIDE_NAME_TAKEN) when `previous` exists without dbfast's marker while `live` exists
 * (then a swap would rename it and drop it, and a rollback would put it live): it is somebody
 * else's, or an older dbfast's copy (see above). Called before a command changes anything.
 */
export async function refuseForeignPrevious(client: pg.Client, live: string, previous: string): Promise<void> {
  const problem = await previousNameProblem(client, live, previous);
  if (problem) throw refusal(problem);
}

/**
 * The same refusal, inside a swap's transaction once it renamed the previous copy to `renamedTo`:
 * the rename holds the database's lock until the transaction ends, so the comment read here is
 * the one it has when the swap commits (nobody can change it in between).
 */
export async function refuseForeignRenamedPrevious(client: pg.Client, live: string, previous: string, renamedTo: string): Promise<void> {
  const found = await databaseComments(client, [renamedTo]);
  if (found.get(renamedTo) !== previousMarker(previous)) throw refusal(foreignPreviousProblem(live, previous));
}

function refusal(problem: SwapNameProblem): DbfastError {
  return new DbfastError('SIDE_NAME_TAKEN', problem.message, { hint: problem.hint, details: { databases: problem.databases } });
}

/** Creates side database `side` (like `like`), marked as dbfast's from the moment it has that name (see above). */
export async function createMarkedSide(client: pg.Client, side: string, like: DatabaseFacts | undefined, superuser: boolean): Promise<void> {
  const transient = `${TRANSIENT_PREFIX}${randomBytes(6).toString('hex')}`;
  // Held from before CREATE until the rename: a transient database is never unclaimed while we live.
  await tryAdvisoryLock(client, transientLockKey(transient));
  try {
    await createDatabaseLike(client, transient, like, superuser);
    try {
      await changeDatabases(client, [
        { kind: 'comment', database: transient, comment: sideMarker(side) },
        { kind: 'rename', from: transient, to: side },
      ]);
    } catch (error) {
      await dropDatabaseIfExists(client, transient).catch(() => undefined);
      throw error;
    }
  } finally {
    await advisoryUnlock(client, transientLockKey(transient)).catch(() => undefined);
  }
}
