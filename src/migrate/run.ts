import type pg from 'pg';
import { createBackup } from '../backup/create.js';
import { backupScope } from '../backup/scope.js';
import type { RecordedRun } from '../history/run.js';
import { environmentVariables } from '../config/resolve.js';
import { DbfastError } from '../errors.js';
import { withClient } from '../pg/client.js';
import { withDatabaseLock } from '../pg/lock.js';
import { applyEach, applyInOneTransaction, MigrationRunError, migrationFailedError, type AppliedMigration } from './execute.js';
import { migrationFiles, type MigrationFile } from './files.js';
import { prepareMigrations, type PreparedMigration } from './prepare.js';
import type { MigrateScope } from './scope.js';
import { compareMigrations, type MigrationComparison } from './status.js';
import { ensureTrackingTable, readMigrationRows } from './table.js';
import { refuseProtectedDatabase } from '../validate/protected.js';

/** Which pending migrations a run takes, and how. */
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
  // The same psql variables as the environment's template build: a migration and the file it mirrors read alike.
  const variables = environmentVariables(scope.config, scope.environment);
  return { comparison, selected: await prepareMigrations(inRange, options.singleTransaction === true, variables), later };
}

/** One run of migrations against one remote. */
export interface RunMigrationsInput extends SelectOptions {
  scope: MigrateScope;
  /** Back up before the first migration (only when there is one to apply). */
  backup: boolean;
  lockTimeoutMs?: number | undefined;
  /** The run's record (its id marks the rows; its backupId is set here) and phase clock. */
  run: RecordedRun;
  /** Runs after the migrations committed, the lock still held (deploy: the validate queries). */
  afterApply?: (() => Promise<void>) | undefined;
}

/** What a run applied, the backup it took, and what it left. */
export interface RunMigrationsResult {
  applied: AppliedMigration[];
  backupId: string | null;
  /** Pending after `--to`. */
  later: string[];
  /** Changed since applied (the run went on because drift was allowed). */
  drifted: string[];
}

/**
 * One applier per database, under the lock deploy, restore and rollback take: read the records,
 * decide, back up, apply, and `afterApply`. The run goes on the remote's history
 * (`run.onRemote`) once it writes to the database, i.e. once there is something to apply.
 */
export async function runMigrations(input: RunMigrationsInput): Promise<RunMigrationsResult> {
  const { scope, run } = input;
  const { logger } = scope;
  const files = await migrationFiles(scope.config, scope.environment);
  checkTo(files, input.to);
  return withDatabaseLock(scope.target, scope.database, { timeoutMs: input.lockTimeoutMs, logger }, async (admin) => {
    await refuseProtectedDatabase(admin.client, scope.database, `remotes.${scope.remote.name}.url`);
    return withClient(scope.target, async (client) => {
      const selection = await selectMigrations(client, files, scope, input);
      const result: RunMigrationsResult = { applied: [], backupId: null, later: selection.later, drifted: selection.comparison.drifted };
      if (selection.selected.length > 0) {
        run.onRemote = true;
        await ensureTrackingTable(client, scope.database);
        if (input.backup) {
          const created = await run.clock.run('backup', () => createBackup(backupScope(scope.config, scope.remote.name, { logger, env: scope.env }), { lockTimeoutMs: input.lockTimeoutMs }));
          result.backupId = run.record.backupId = created.backup.id;
          logger.info(`backup ${created.backup.id} written and verified`);
        }
        result.applied = await applySelected(client, selection, input, result.backupId);
      } else {
        logger.info(`no pending migrations for remote "${scope.remote.name}"`);
      }
      if (input.afterApply) await input.afterApply();
      return result;
    }, { applicationName: 'dbfast migrate', runsUserSql: true });
  });
}

async function applySelected(client: pg.Client, selection: MigrationSelection, input: RunMigrationsInput, backupId: string | null): Promise<AppliedMigration[]> {
  const { run, scope } = input;
  const migrations = selection.selected;
  try {
    return await run.clock.run('migrate', () =>
      input.singleTransaction ? applyInOneTransaction(client, migrations, run.record.deployId, scope.logger) : applyEach(client, migrations, run.record.deployId, scope.logger),
    );
  } catch (error) {
    if (!(error instanceof MigrationRunError)) throw error;
    const at = migrations.findIndex((m) => m.file.id === error.failure.migration);
    const notRun = [...migrations.slice(at + 1).map((m) => m.file.id), ...selection.later];
    throw migrationFailedError(error.failure, { remote: scope.remote.name, notRun, backupId, runId: run.record.deployId });
  }
}
