import type pg from 'pg';
import { watchCopyProgress } from '../archive/copy-progress.js';
import { restoreArchive } from '../archive/restore.js';
import { interrupted, registerCleanup } from '../cleanup.js';
import { DbfastError, errorMessage } from '../errors.js';
import { carryOverDbfastSchema } from '../history/schema.js';
import { connectMaintenance, databaseFacts, rolePrivileges } from '../pg/admin.js';
import { commentStatement, databaseComment, dropDatabaseIfExists, renameInOneTransaction, renameStatement } from '../pg/catalog.js';
import { withClient } from '../pg/client.js';
import { applyDatabaseSettings, copyDatabaseProperties, type DatabaseSetting } from '../pg/db-properties.js';
import { quoteLiteral } from '../pg/quote.js';
import { withDatabase } from '../pg/target.js';
import type { SwapNames } from '../remote/names.js';
import { analyzeRestored } from './analyze.js';
import { createMarkedSide, dropLeftoverSides, refuseForeignPrevious } from './leftover.js';
import { reapScratchDatabases } from './scratch.js';
import { FIX_AND_RETRY, warnOnly, withOutcome, type DatabaseCheck, type ReplaceBase } from './source.js';
import { exchangeDatabases, swapIn } from './swap.js';

/** What a replace through a side database needs besides the archive. */
export interface SideReplaceInput extends ReplaceBase {
  /** The maintenance connection that holds the database's lock. */
  admin: pg.Client;
  names: SwapNames;
  /** Before the swap, on the restored side database (schema, row counts, validate queries). */
  check: DatabaseCheck;
  /** On the side database once dbfast's own tables were carried over into it, right before the swap. */
  prepare?: ((side: pg.Client) => Promise<void>) | undefined;
  keepPrevious: boolean;
  /**
   * Per-database settings the new database must have (a deployed template's), given to the side
   * database before the swap, after the live database's own properties: where both set one, these win.
   */
  settings?: readonly DatabaseSetting[] | undefined;
  /**
   * `keep` (default): the live database's own settings are copied to the side database first, so
   * `settings` win only where both set one (a deploy). `replace`: the side database gets exactly
   * `settings` (a backup restore: the settings the database had when it was backed up).
   */
  liveSettings?: 'keep' | 'replace' | undefined;
  /** Once the new database is live (checks again, hooks, health); a throw swaps the previous one back. */
  afterLive?: (() => Promise<void>) | undefined;
}

/** Where the replaced database went. */
export interface SideReplaceResult {
  /** Where the replaced database is kept, or null (there was none, or keep_previous = false). */
  previous: string | null;
  sessionsEnded: number;
}

/**
 * THE way a live database is replaced when the user may create databases: restore into a side
 * database, ANALYZE it, check it, carry dbfast's tables and the database's properties over, swap
 * it in (`swapIn`: all renames in one transaction; the old previous database dropped only once
 * the new one is live), then `afterLive`. Until the swap the live database is untouched and any
 * failure (or interrupt) drops the side database; after it, a failing `afterLive` swaps the
 * previous database back.
 */
export async function replaceThroughSide(input: SideReplaceInput): Promise<SideReplaceResult> {
  const { admin, names, clock, state, ctx, source } = input;
  const logger = ctx.logger;
  const sideTarget = withDatabase(ctx.target, names.side);
  // Only databases dbfast marked as its own; a user's database with a side name (or on the previous name) stops the command here.
  await refuseForeignPrevious(admin, names.live, names.previous);
  await dropLeftoverSides(admin, names.sides, logger);
  await reapScratchDatabases(admin, logger);
  const [privileges, like] = await Promise.all([rolePrivileges(admin), databaseFacts(admin, names.live)]);
  await createMarkedSide(admin, names.side, like, privileges.superuser);
  // On a connection of its own: the lock's connection may be busy when the interrupt comes.
  const unregister = registerCleanup(() => dropFresh(input, names.side));
  let swapped = false;
  try {
    await clock.run('restore', async () => {
      const stop = source.totalRows ? watchCopyProgress(admin, names.side, source.totalRows, logger) : () => undefined;
      try {
        const { input: archive, tempDir } = await source.open(source.jobs);
        await restoreArchive(sideTarget, archive, {
          compression: source.compression,
          totalBytes: source.totalBytes,
          jobs: source.jobs,
          ...(tempDir ? { tempDir } : {}),
          noOwner: source.noOwner,
          noPrivileges: ctx.remote.noPrivileges,
          pgBinDir: ctx.pgBinDir,
          logger,
        });
      } finally {
        stop();
      }
      await withClient(sideTarget, (client) => analyzeRestored(client, `"${names.side}"`, logger));
    });
    await clock.run('validate', () => input.check(sideTarget));
    const signal = interrupted();
    if (signal) throw new DbfastError('INTERRUPTED', `interrupted (${signal}) before the swap; the live database is untouched`);
    let result: SideReplaceResult = { previous: null, sessionsEnded: 0 };
    const untouched = state.live;
    const swapping = clock.run('swap', async () => {
      // Recorded (\`running\`) before anything is renamed: a process killed from here on, even the
      // moment the swap commits, leaves a record that says how to tell whether it did.
      state.live = await swapUnderWay(input, like !== undefined);
      await state.checkpoint();
      if (like) {
        // History and migration records stay with the live database, whatever the new one holds.
        await withClient(ctx.target, (from) => withClient(sideTarget, (to) => carryOverDbfastSchema(from, to)));
        if (input.prepare) await withClient(sideTarget, input.prepare);
        // The comment is set in the swap's transaction: until then the side keeps dbfast's marker.
        await copyDatabaseProperties(admin, names.live, names.side, logger, { comment: false, settings: input.liveSettings !== 'replace' });
        await applyDatabaseSettings(admin, names.side, input.settings ?? []);
        result = await swapIn(admin, names, { keepPrevious: true, target: ctx.target, liveComment: await databaseComment(admin, names.live) });
      } else {
        if (input.prepare) await withClient(sideTarget, input.prepare);
        await applyDatabaseSettings(admin, names.side, input.settings ?? []);
        await renameInOneTransaction(admin, [renameStatement(names.side, names.live), commentStatement(names.live, null)]);
      }
      swapped = true;
      state.onRemote = true;
      state.live = result.previous
        ? `the new database is live as "${names.live}" (${source.label}); the one it replaced is kept as "${result.previous}" (\`dbfast rollback\` puts it back)`
        : `the new database is live as "${names.live}" (${source.label}; there was none before)`;
    });
    // An interrupt while the swap commits waits for it to end either way, so the run's record
    // (written by the last cleanup) says what is live, not what was live before the swap.
    const unregisterSwap = registerCleanup(() => swapping.then(() => undefined, () => undefined));
    try {
      await swapping;
    } catch (error) {
      // The renames are one transaction: failed, nothing was renamed.
      if (!swapped) state.live = untouched;
      throw error;
    } finally {
      unregisterSwap();
    }
    // What is live now, for certain; what follows can take minutes (hooks, health).
    await state.checkpoint();
    if (input.afterLive) {
      try {
        await input.afterLive();
      } catch (error) {
        // An interrupt is the user's call: what is live stays, and the record says which it is.
        if (interrupted()) throw error;
        throw await swapBack(input, result.previous, error);
      }
    }
    if (result.previous && !input.keepPrevious) {
      await dropDatabaseIfExists(admin, result.previous);
      result = { ...result, previous: null };
    }
    return result;
  } finally {
    if (!swapped) await dropDatabaseIfExists(admin, names.side).catch(warnOnly(logger, `could not drop "${names.side}"`));
    unregister();
  }
}

/**
 * What is live while the swap runs, in a sentence the run's \`running\` record keeps if the
 * process is killed: the side database's oid tells whether the renames committed (an oid
 * survives a rename).
 */
async function swapUnderWay(input: SideReplaceInput, liveExists: boolean): Promise<string> {
  const { admin, names, source } = input;
  const found = await admin.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_database WHERE datname = $1', [names.side]);
  const oid = found.rows[0]?.oid ?? '?';
  const check = `SELECT oid FROM pg_database WHERE datname = ${quoteLiteral(names.live)}`;
  const committed = liveExists
    ? `the new database is live as "${names.live}" (${source.label}); the one it replaced is kept as "${names.previous}" (\`dbfast rollback\` puts it back)`
    : `the new database is live as "${names.live}" (${source.label}; there was none before)`;
  return `the swap of "${names.side}" (oid ${oid}) was under way: if "${names.live}" has oid ${oid} now (${check}), it committed: ${committed}; otherwise nothing was renamed and ${liveExists ? 'the live database is untouched' : `there is no "${names.live}" yet`}`;
}

async function dropFresh(input: SideReplaceInput, name: string): Promise<void> {
  const admin = await connectMaintenance(input.ctx.target, [name, input.names.live]);
  try {
    await dropDatabaseIfExists(admin.client, name);
  } finally {
    await admin.client.end().catch(() => undefined);
  }
}

/** After a failure once live: exchange names with the kept previous database, then drop the failed one. */
async function swapBack(input: SideReplaceInput, previous: string | null, error: unknown): Promise<Error> {
  const { admin, names, clock, state, ctx } = input;
  if (!previous) {
    return withOutcome(error, 'There was no database before, so there is nothing to go back to: the new database stays live.', 'Drop or fix the database by hand if it must not stay.', false);
  }
  let exchanged = false;
  try {
    await clock.run('rollback', async () => {
      await exchangeDatabases(admin, names.live, previous);
      exchanged = true;
      state.live = `the database from before is live again as "${names.live}"; the failed one is "${previous}"`;
      // The exchange gave the failed database the previous one's name: a later `dbfast rollback` must not bring it back.
      await dropDatabaseIfExists(admin, previous);
      state.live = `the database from before is live again as "${names.live}"`;
    });
  } catch (undo) {
    ctx.logger.warn(`${exchanged ? 'could not drop the failed database' : 'could not swap the previous database back'}: ${errorMessage(undo)}`);
    if (exchanged) {
      return withOutcome(error, `Rolled back: the previous database is live again as "${names.live}", but the failed one could not be dropped (${errorMessage(undo)}) and is kept as "${previous}".`, `Drop "${previous}" before running \`dbfast rollback\`, which would bring it back.`, true);
    }
    return withOutcome(error, `Swapping the previous database back failed (${errorMessage(undo)}): ${state.live}.`, `\`dbfast rollback --remote ${ctx.remote.name}\` retries the swap back.`, false);
  }
  return withOutcome(error, `Rolled back: the previous database is live again as "${names.live}"; the new one was dropped.`, FIX_AND_RETRY, true);
}
