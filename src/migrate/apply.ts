import type { DbfastConfig } from '../config/types.js';
import { runRecorded } from '../history/run.js';
import { backupRequired, requireConfirmation } from '../remote/policy.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import type { AppliedMigration } from './execute.js';
import { migrationFiles } from './files.js';
import { runMigrations, selectMigrations, type SelectOptions } from './run.js';
import { migrateScope } from './scope.js';

/** Which remote, which migrations (`to`), how (`singleTransaction`, `allowDrift`), and the guards' answers. */
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

/** What `migrate apply` did, or would do (`dryRun`). */
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

/**
 * Applies the pending migrations of the remote's environment: confirmation, lock, backup,
 * then each migration in its own transaction (see runMigrations). A dry run reads only. A run
 * that wrote to the database is recorded in its history (kind `migrate`); one that found
 * nothing to do, or was refused before writing, leaves no record.
 */
export async function migrateApply(options: MigrateApplyOptions): Promise<MigrateApplyReport> {
  const scope = migrateScope(options);
  const started = Date.now();
  const base = { remote: scope.remote.name, environment: scope.environment, database: scope.database, backup: backupRequired(scope.remote, false) };
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
  requireConfirmation(scope.remote, options.confirmed, 'applying migrations to', `dbfast migrate apply --remote ${scope.remote.name}`);
  return runRecorded('migrate', scope, async (run) => {
    try {
      const outcome = await runMigrations({ ...options, scope, backup: base.backup, run });
      return {
        ...base,
        result: 'success',
        runId: run.onRemote ? run.record.deployId : null,
        backupId: outcome.backupId,
        applied: outcome.applied,
        wouldApply: [],
        later: outcome.later,
        drifted: outcome.drifted,
        durationMs: Date.now() - started,
      };
    } finally {
      if (!run.onRemote) run.discard();
    }
  });
}
