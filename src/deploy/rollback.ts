import type { DbfastConfig } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { LIVE_UNTOUCHED, runRecorded } from '../history/run.js';
import { carryOverDbfastSchema } from '../history/schema.js';
import type { Logger } from '../logger.js';
import type pg from 'pg';
import { databaseExists } from '../pg/catalog.js';
import { withClient } from '../pg/client.js';
import { withDatabaseLock } from '../pg/lock.js';
import { quoteLiteral } from '../pg/quote.js';
import { withDatabase } from '../pg/target.js';
import { resolveRemoteContext } from '../remote/context.js';
import { swapNames } from '../remote/names.js';
import { requireConfirmation } from '../remote/policy.js';
import { refuseForeignPrevious } from '../replace/leftover.js';
import { exchangeDatabases } from '../replace/swap.js';
import { refuseProtectedDatabase } from '../validate/protected.js';

/** Which remote, and back to what. */
export interface RollbackOptions {
  config: DbfastConfig;
  remote: string;
  /** `previous` (default): swap the kept previous database back in; else a backup id (or `latest`) to restore. */
  to?: string | undefined;
  confirmed?: boolean | undefined;
  lockTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** What `rollback` did. */
export interface RollbackReport {
  remote: string;
  database: string;
  to: string;
  durationMs: number;
  /** previous: names exchanged (the rolled-back database is now the previous one, so rolling back again rolls forward). */
  method: 'previous' | 'backup';
}

/**
 * Puts the database from before the last deploy back: by exchanging names with the kept
 * `<db>__dbfast_prev` (about a second whatever the size), or by restoring a backup through
 * the same checks, side database and swap as `backup restore`. Recorded as a `rollback`; a
 * backup that does not exist (or fails its checksum) is refused before anything is written.
 */
export async function rollback(options: RollbackOptions): Promise<RollbackReport> {
  const started = Date.now();
  const ctx = resolveRemoteContext({ ...options, replaces: true });
  requireConfirmation(ctx.remote, options.confirmed, 'rolling back', `dbfast rollback --remote ${ctx.remote.name}`);
  const to = options.to ?? 'previous';
  // Loaded only for a backup: swapping the previous database back needs none of the dump machinery (a rollback takes about a second).
  const restore = to === 'previous' ? undefined : await import('../backup/restore.js');
  const backup = restore && (await restore.prepareRestore(ctx, { backupId: to, confirmed: true, verb: 'rolling back to' }));
  const lock = { timeoutMs: options.lockTimeoutMs, logger: ctx.logger };
  await runRecorded('rollback', ctx, async (run) => {
    if (restore && backup) {
      run.record.backupId = backup.info.id;
      await restore.restorePrepared(ctx, backup, { clock: run.clock, state: run, lockTimeoutMs: options.lockTimeoutMs });
      return;
    }
    const names = swapNames(ctx.database);
    await withDatabaseLock(ctx.target, ctx.database, { ...lock, avoid: [names.previous] }, async (admin) => {
      await refuseProtectedDatabase(admin.client, ctx.database, `remotes.${ctx.remote.name}.url`);
      if (!(await databaseExists(admin.client, names.previous))) {
        throw new DbfastError('NO_PREVIOUS', `there is no previous database "${names.previous}" to roll back to`, {
          hint: `Deploys keep it unless keep_previous = false; roll back to a backup instead: \`dbfast rollback --remote ${ctx.remote.name} --to BACKUP_ID\` (see \`dbfast backup list\`).`,
        });
      }
      // Only a copy dbfast kept goes live: a user's database on that name (or an older dbfast's unmarked copy) is refused.
      await refuseForeignPrevious(admin.client, ctx.database, names.previous);
      run.onRemote = true;
      await run.clock.run('swap', async () => {
        // Recorded (`running`) before the exchange, and carried over with the history below: a
        // process killed from here on, even the moment the exchange commits, leaves a record.
        run.live = await exchangeUnderWay(admin.client, ctx.database, names.previous);
        await run.checkpoint();
        // History written since the deploy goes back with the database that becomes live.
        await withClient(ctx.target, (from) => withClient(withDatabase(ctx.target, names.previous), (into) => carryOverDbfastSchema(from, into)));
        await exchangeDatabases(admin.client, ctx.database, names.previous).catch((error: unknown) => {
          // One transaction: failed, nothing was renamed.
          run.live = LIVE_UNTOUCHED;
          throw error;
        });
        run.live = `the previous database is live as "${ctx.database}"; the one it replaced is kept as "${names.previous}"`;
      });
    });
  });
  return { remote: ctx.remote.name, database: ctx.database, to: backup ? backup.info.id : to, durationMs: Date.now() - started, method: backup ? 'backup' : 'previous' };
}

/** What is live while the exchange runs, in a sentence a killed run's `running` record keeps: the previous copy's oid tells whether it committed. */
async function exchangeUnderWay(client: pg.Client, live: string, previous: string): Promise<string> {
  const found = await client.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_database WHERE datname = $1', [previous]);
  const oid = found.rows[0]?.oid ?? '?';
  return `the exchange of "${live}" and "${previous}" (oid ${oid}) was under way: if "${live}" has oid ${oid} now (SELECT oid FROM pg_database WHERE datname = ${quoteLiteral(live)}), it committed: the previous database is live as "${live}"; the one it replaced is kept as "${previous}"; otherwise nothing was renamed and the live database is untouched`;
}
