import type { DbfastConfig } from '../config/types.js';
import { newDeployId } from '../history/id.js';
import { newRecord } from '../history/records.js';
import { PhaseClock } from '../history/phases.js';
import { isProductionRemote } from '../remote/policy.js';
import { DbfastError, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import type { AppliedMigration } from './execute.js';
import { migrationFiles } from './files.js';
import { recordRun } from '../history/record-run.js';
import { runMigrations, selectMigrations, type SelectOptions } from './run.js';
import { migrateScope, type MigrateScope } from './scope.js';

export interface MigrateApplyOptions extends SelectOptions {
  config: DbfastConfig;
  remote: string;
  environment?: string | undefined;
  dryRun?: boolean | undefined;
  /** Needed for production remotes and `require_confirmation` (the CLI asks on a terminal). */
  confirmed?: boolean | undefined;
  /** Give up when another deploy/restore/apply holds the database's lock this long; default: wait. */
  lockTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface MigrateApplyReport {
  remote: string;
  environment: string;
  database: string;
  result: 'success' | 'dry_run';
  /** The run's id in `dbfast.deploy_history` (kind `migrate`) and in the rows it wrote; null when nothing ran. */
  runId: string | null;
  /** Taken before the first migration; null for a dry run, nothing to apply, or no backup configured. */
  backupId: string | null;
  /** Whether the run backs up first (production, or `backup_before_deploy`). */
  backup: boolean;
  applied: AppliedMigration[];
  /** Dry run: what would run, in order. */
  wouldApply: Array<{ id: string; noTransaction: boolean }>;
  /** Pending after `--to`, left for later. */
  later: string[];
  /** Changed since applied; only when --allow-drift let the run go on. */
  drifted: string[];
  durationMs: number;
}

export function backsUp(scope: MigrateScope): boolean {
  return isProductionRemote(scope.remote) || scope.remote.backupBeforeDeploy;
}

function refuseUnconfirmed(scope: MigrateScope): DbfastError {
  const production = isProductionRemote(scope.remote);
  return new DbfastError('CONFIRMATION_REQUIRED', `applying migrations to remote "${scope.remote.name}" needs confirmation${production ? ' (production)' : ''}`, {
    hint: 'Pass --confirm (or --yes), or run in a terminal and answer the prompt. Try --dry-run to see what would run.',
  });
}

/**
 * Applies the pending migrations of the remote's environment: confirmation, lock, backup,
 * then each migration in its own transaction (see runMigrations). A dry run reads only.
 */
export async function migrateApply(options: MigrateApplyOptions): Promise<MigrateApplyReport> {
  const logger = options.logger ?? silentLogger;
  const scope = migrateScope(options);
  const started = Date.now();
  const base = { remote: scope.remote.name, environment: scope.environment, database: scope.database, backup: backsUp(scope) };
  if (options.dryRun) {
    const files = await migrationFiles(scope.config, scope.environment);
    const selection = await withClient(scope.target, (client) => selectMigrations(client, files, scope, options));
    return {
      ...base,
      result: 'dry_run',
      runId: null,
      backupId: null,
      applied: [],
      wouldApply: selection.selected.map((m) => ({ id: m.file.id, noTransaction: m.file.noTransaction })),
      later: selection.later,
      drifted: selection.comparison.drifted,
      durationMs: Date.now() - started,
    };
  }
  if (scope.remote.requireConfirmation && options.confirmed !== true) throw refuseUnconfirmed(scope);

  const record = newRecord({ deployId: newDeployId(), kind: 'migrate', remote: scope.remote.name, environment: scope.environment, database: scope.database });
  const clock = new PhaseClock(logger);
  const progress = { wrote: false };
  try {
    const outcome = await runMigrations({ ...options, scope, backup: base.backup, logger, clock, record, progress });
    record.result = 'success';
    return {
      ...base,
      result: 'success',
      runId: progress.wrote ? record.deployId : null,
      backupId: outcome.backupId,
      applied: outcome.applied,
      wouldApply: [],
      later: outcome.later,
      drifted: outcome.drifted,
      durationMs: Date.now() - started,
    };
  } catch (error) {
    record.result = 'failed';
    record.error = errorMessage(error);
    throw error;
  } finally {
    record.phases = clock.phases;
    // A run that found nothing to do (or was refused before writing) leaves no history.
    if (progress.wrote) await recordRun(scope.config, record, scope.target, logger);
  }
}
