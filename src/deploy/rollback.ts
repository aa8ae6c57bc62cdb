import { connectMaintenance } from '../pg/admin.js';
import { databaseLockKey, swapNames } from '../replace/swap.js';
import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { DbfastError, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { databaseExists, withClient } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryUnlock } from '../pg/lock.js';
import { databaseName, withDatabase } from '../pg/target.js';
import { carryOverDbfastSchema } from '../history/schema.js';
import { newDeployId } from '../history/id.js';
import { exchangeDatabases } from '../replace/exchange.js';
import { newRecord, recordLocally, recordOnRemote } from '../history/records.js';

export interface RollbackOptions {
  config: DbfastConfig;
  remote: string;
  /** `previous` (default): swap the kept previous database back in; else a backup id to restore. */
  to?: string | undefined;
  confirmed?: boolean | undefined;
  lockTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

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
 * the same verify, side-restore and swap path as `backup restore`.
 */
export async function rollback(options: RollbackOptions): Promise<RollbackReport> {
  const started = Date.now();
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const env = options.env ?? process.env;
  const remote = findRemote(config, options.remote);
  if (remote.requireConfirmation && !options.confirmed) {
    throw new DbfastError('CONFIRMATION_REQUIRED', `rolling back remote "${remote.name}" needs confirmation`, {
      hint: 'Pass --confirm, or run in a terminal and answer the prompt.',
    });
  }
  const target = remoteTarget(remote, env);
  const live = databaseName(target);
  const to = options.to ?? 'previous';
  const record = newRecord({ deployId: newDeployId(), kind: 'rollback', remote: remote.name, environment: remote.environment, database: live });
  try {
    if (to === 'previous') {
      await rollbackToPrevious(target, live, options.lockTimeoutMs, logger);
    } else {
      record.backupId = to;
      // Loaded only for this path: a swap back to the previous database needs none of the dump machinery.
      const [{ restoreBackup }, { backupScope }] = await Promise.all([import('../backup/restore.js'), import('../backup/scope.js')]);
      await restoreBackup(backupScope(config, remote.name, { logger, env }), to, { confirmed: true });
    }
    record.result = 'success';
  } catch (error) {
    record.error = errorMessage(error);
    throw error;
  } finally {
    record.finishedAt = new Date().toISOString();
    record.durationMs = Date.now() - started;
    await withClient(target, (client) => recordOnRemote(client, record)).catch((error: unknown) =>
      logger.warn(`could not record the rollback on the remote: ${errorMessage(error)}`),
    );
    await recordLocally(config, record).catch(() => undefined);
  }
  return { remote: remote.name, database: live, to, durationMs: Date.now() - started, method: to === 'previous' ? 'previous' : 'backup' };
}

async function rollbackToPrevious(target: import('../pg/target.js').DbTarget, live: string, lockTimeoutMs: number | undefined, logger: Logger): Promise<void> {
  const names = swapNames(live);
  const parking = `${live}__dbfast_rollback`;
  const admin = await connectMaintenance(target, [live, names.previous, parking]);
  try {
    await acquireAdvisoryLock(admin.client, databaseLockKey(live), {
      timeoutMs: lockTimeoutMs,
      onWait: () => logger.info(`another dbfast operation holds database "${live}"; waiting for it to finish`),
    });
    if (!(await databaseExists(admin.client, names.previous))) {
      throw new DbfastError('NO_PREVIOUS', `there is no previous database "${names.previous}" to roll back to`, {
        hint: 'Deploys keep it unless keep_previous = false; roll back to a backup instead: `dbfast rollback --remote NAME --to BACKUP_ID` (see `dbfast backup list`).',
      });
    }
    // History written since the deploy goes back with the database that becomes live.
    await withClient(target, (from) => withClient(withDatabase(target, names.previous), (to) => carryOverDbfastSchema(from, to)));
    await exchangeDatabases(admin.client, live, names.previous, parking);
  } finally {
    await advisoryUnlock(admin.client, databaseLockKey(live)).catch(() => undefined);
    await admin.client.end().catch(() => undefined);
  }
}
