import { restoreInTransaction } from '../archive/transaction-restore.js';
import { interrupted } from '../cleanup.js';
import { DbfastError, errorMessage } from '../errors.js';
import { connectMaintenance } from '../pg/admin.js';
import { endSessions } from '../pg/catalog.js';
import { withClient } from '../pg/client.js';
import { analyzeRestored } from './analyze.js';
import { FIX_AND_RETRY, withOutcome, type ReplaceBase } from './source.js';

/** What an in-place replace restores, with the SQL around it and what happens after COMMIT. */
export interface InPlaceInput extends ReplaceBase {
  /** SQL inside the restore's transaction, before the archive (drop what it replaces). */
  before: string;
  /** SQL inside it after the archive, before COMMIT; raising rolls everything back (row counts). */
  after: string;
  /** End the sessions on the live database first (best effort: their locks would make the restore wait). */
  endSessions: boolean;
  /** Once committed: checks, hooks, health; a throw runs `undo`. */
  afterCommit?: (() => Promise<void>) | undefined;
  /** Puts the database from before back (a backup, restored in place), or says why it cannot be. */
  undo?: { label: string; run: () => Promise<void> } | { impossible: string } | undefined;
}

/**
 * The in-place variant, for users who may not create databases: the archive replaces the live
 * database's contents inside ONE transaction (`before`, the archive, `after` with its checks),
 * so any failure up to COMMIT leaves the database as it was. After COMMIT a failing
 * `afterCommit` runs the undo, and the error says whether the database from before is live again.
 */
export async function replaceInPlace(input: InPlaceInput): Promise<{ sessionsEnded: number }> {
  const { ctx, clock, state, source } = input;
  const logger = ctx.logger;
  let sessionsEnded = 0;
  if (input.endSessions) sessionsEnded = await endSessionsBestEffort(input);
  const untouched = state.live;
  await clock.run('restore', async () => {
    // Recorded (`running`) before the transaction starts: a process killed from here on, even the
    // moment it commits, leaves a record.
    state.live = `the in-place restore of ${source.label} into "${ctx.database}" was under way, in one transaction: if it committed, "${ctx.database}" holds ${source.label}; otherwise it is untouched`;
    await state.checkpoint();
    await restoreInTransaction(ctx.target, (await source.open(1)).input, {
      compression: source.compression,
      totalBytes: source.totalBytes,
      clean: true,
      noOwner: source.noOwner,
      noPrivileges: ctx.remote.noPrivileges,
      before: input.before,
      after: input.after,
      pgBinDir: ctx.pgBinDir,
      logger,
    }).catch((error: unknown) => {
      // Rolled back as a whole.
      state.live = untouched;
      throw error;
    });
    state.live = `"${ctx.database}" holds ${source.label} (restored in place)`;
    await withClient(ctx.target, (client) => analyzeRestored(client, `"${ctx.database}"`, logger));
  });
  if (!input.afterCommit) return { sessionsEnded };
  // What follows can take minutes (hooks, health): a process killed there still leaves a record.
  await state.checkpoint();
  try {
    await input.afterCommit();
  } catch (error) {
    if (interrupted()) throw error;
    throw await undo(input, error);
  }
  return { sessionsEnded };
}

async function endSessionsBestEffort(input: InPlaceInput): Promise<number> {
  const admin = await connectMaintenance(input.ctx.target, [input.ctx.database]);
  try {
    return await endSessions(admin.client, input.ctx.database);
  } catch (error) {
    input.ctx.logger.warn(`${errorMessage(error)}; the restore may wait for their locks`);
    return 0;
  } finally {
    await admin.client.end().catch(() => undefined);
  }
}

async function undo(input: InPlaceInput, error: unknown): Promise<DbfastError> {
  const { ctx, clock, state } = input;
  const plan = input.undo;
  if (!plan || 'impossible' in plan) {
    return withOutcome(error, `${plan?.impossible ?? 'Nothing can put the database from before back'}: it cannot be undone, ${state.live}.`, 'Restore an older backup with `dbfast backup restore` if it must go.', false);
  }
  ctx.logger.warn(`restoring ${plan.label} after: ${errorMessage(error).split('\n')[0] ?? ''}`);
  try {
    await clock.run('rollback', plan.run);
  } catch (failed) {
    return withOutcome(error, `Restoring ${plan.label} failed too (${errorMessage(failed)}): ${state.live}.`, `Restore it by hand: dbfast backup restore --remote ${ctx.remote.name} --backup-id ${plan.label.replace(/^backup /, '')} --confirm`, false);
  }
  state.live = `the database from before is live again (${plan.label} was restored in place)`;
  return withOutcome(error, `Rolled back: ${plan.label} was restored.`, FIX_AND_RETRY, true);
}
