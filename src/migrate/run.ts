import type pg from 'pg';
import { connectMaintenance } from '../pg/admin.js';
import { createBackup } from '../backup/create.js';
import { backupScope } from '../backup/scope.js';
import { databaseLockKey } from '../replace/swap.js';
import type { DeployRecord } from '../history/records.js';
import type { PhaseClock } from '../history/phases.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { connect } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryUnlock } from '../pg/lock.js';
import { applyEach, applyInOneTransaction, MigrationRunError, migrationFailedError, type AppliedMigration } from './execute.js';
import { migrationFiles, type MigrationFile } from './files.js';
import { prepareMigrations, type PreparedMigration } from './prepare.js';
import type { MigrateScope } from './scope.js';
import { compareMigrations, type MigrationComparison } from './status.js';
import { ensureTrackingTable, readMigrationRows } from './table.js';

export interface SelectOptions {
  /** Apply up to and including this id (`--to`). */
  to?: string | undefined;
  singleTransaction?: boolean | undefined;
  allowDrift?: boolean | undefined;
}

/** What a run would apply, checked: drift refused (unless allowed), files read and split. */
export interface MigrationSelection {
  comparison: MigrationComparison;
  selected: PreparedMigration[];
  /** Pending after `--to`: left for a later run. */
  later: string[];
}

function checkTo(files: readonly MigrationFile[], to: string | undefined): number {
  if (to === undefined) return files.length - 1;
  const index = files.findIndex((file) => file.id === to);
  if (index < 0) {
    throw new DbfastError('MIGRATION_UNKNOWN', `--to ${to}: no such migration in the repository`, {
      hint: `Name a migration by its path relative to the repository${files.length ? `, e.g. ${files[files.length - 1]?.id}` : ''} (see \`dbfast migrate status\`).`,
    });
  }
  return index;
}

/** Reads the remote's records (never creating anything) and decides what to apply. */
export async function selectMigrations(client: pg.Client, files: MigrationFile[], scope: MigrateScope, options: SelectOptions): Promise<MigrationSelection> {
  const last = checkTo(files, options.to);
  const comparison = compareMigrations(files, await readMigrationRows(client));
  if (comparison.drifted.length > 0 && !options.allowDrift) {
    throw new DbfastError('MIGRATION_DRIFT', `${comparison.drifted.length} applied migration(s) changed since they were applied on remote "${scope.remote.name}":\n  ${comparison.drifted.join('\n  ')}`, {
      hint: 'An applied migration is never run again: restore the file as it was, and put the change into a new migration. Pass --allow-drift to apply the pending ones anyway.',
      details: { drifted: comparison.drifted } });
  }
  const pending = new Set(comparison.pending);
  const inRange = files.filter((file, index) => index <= last && pending.has(file.id));
  const later = files.filter((file, index) => index > last && pending.has(file.id)).map((file) => file.id);
  return { comparison, selected: await prepareMigrations(inRange, options.singleTransaction === true), later };
}

export interface RunMigrationsInput extends SelectOptions {
  scope: MigrateScope;
  /** Back up before the first migration (only when there is one to apply). */
  backup: boolean;
  lockTimeoutMs?: number | undefined;
  logger: Logger;
  clock: PhaseClock;
  /** The run's history record: its deployId marks the rows, its backupId is set here. */
  record: DeployRecord;
  /** Runs after the migrations committed, the lock still held (deploy: the validate queries). */
  afterApply?: (() => Promise<void>) | undefined;
  /** Set as the run goes, so a caller can tell after a failure whether the database was written to. */
  progress?: { wrote: boolean } | undefined;
}

export interface RunMigrationsResult {
  applied: AppliedMigration[];
  backupId: string | null;
  /** Pending after `--to`. */
  later: string[];
  /** Changed since applied (the run went on because drift was allowed). */
  drifted: string[];
}

/**
 * One applier per database: the same advisory lock deploy, restore and rollback take (on the
 * maintenance database, where they take it). Under it: read the records, decide, back up,
 * apply, and `afterApply`.
 */
export async function runMigrations(input: RunMigrationsInput): Promise<RunMigrationsResult> {
  const { scope, logger, clock, record } = input;
  const files = await migrationFiles(scope.config, scope.environment);
  checkTo(files, input.to);
  const key = databaseLockKey(scope.database);
  const admin = await connectMaintenance(scope.target, [scope.database]);
  let client: pg.Client | undefined;
  try {
    await acquireAdvisoryLock(admin.client, key, {
      timeoutMs: input.lockTimeoutMs,
      onWait: () => logger.info(`another dbfast operation holds database "${scope.database}"; waiting for it to finish`),
    });
    client = await connect(scope.target, { applicationName: 'dbfast migrate' });
    const selection = await selectMigrations(client, files, scope, input);
    const result: RunMigrationsResult = { applied: [], backupId: null, later: selection.later, drifted: selection.comparison.drifted };
    if (selection.selected.length > 0) {
      if (input.progress) input.progress.wrote = true;
      await ensureTrackingTable(client, scope.database);
      if (input.backup) {
        const created = await clock.run('backup', () => createBackup(backupScope(scope.config, scope.remote.name, { logger, env: scope.env })));
        result.backupId = record.backupId = created.backup.id;
        logger.info(`backup ${created.backup.id} written and verified`);
      }
      const migrations = selection.selected;
      const conn = client;
      try {
        result.applied = await clock.run('migrate', () =>
          input.singleTransaction ? applyInOneTransaction(conn, migrations, record.deployId, logger) : applyEach(conn, migrations, record.deployId, logger),
        );
      } catch (error) {
        if (!(error instanceof MigrationRunError)) throw error;
        const at = migrations.findIndex((m) => m.file.id === error.failure.migration);
        const notRun = [...migrations.slice(at + 1).map((m) => m.file.id), ...selection.later];
        throw migrationFailedError(error.failure, { remote: scope.remote.name, notRun, backupId: result.backupId, runId: record.deployId });
      }
    } else {
      logger.info(`no pending migrations for remote "${scope.remote.name}"`);
    }
    if (input.afterApply) await input.afterApply();
    return result;
  } finally {
    await client?.end().catch(() => undefined);
    await advisoryUnlock(admin.client, key).catch(() => undefined);
    await admin.client.end().catch(() => undefined);
  }
}
