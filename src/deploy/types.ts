import type { DbfastConfig } from '../config/types.js';
import type { DeployTrigger, PhaseTiming } from '../history/records.js';
import type { Logger } from '../logger.js';
import type { DeployMode, RestoreMode } from '../remote/policy.js';
import type { GroupOutcome } from './group-run.js';
import type { DeployGroupFlags } from './groups.js';
import type { HealthResult } from './health.js';
import type { DeployPlan } from './plan.js';

/**
 * What `deploy()` takes: the remote, how to deploy, and the guards' answers; and which deploy
 * groups run (`groups`, `skipGroups`), whether a failing one stops the deploy
 * (`continueOnFailure`), and which checks are left out (`skipHealthChecks`, `skipValidation`).
 */
export interface DeployOptions extends DeployGroupFlags {
  config: DbfastConfig;
  remote: string;
  environment?: string | undefined;
  confirmed?: boolean | undefined;
  dryRun?: boolean | undefined;
  skipBackup?: boolean | undefined;
  mode?: DeployMode | undefined;
  /** Give up when another deploy/restore/rollback of the database holds the lock this long; default: wait. */
  lockTimeoutMs?: number | undefined;
  /** pg_restore jobs for the side database (default 2; a whole number of at least 1). */
  jobs?: number | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** What started the deploy (a webhook delivery), carried into the history record. */
  trigger?: DeployTrigger | undefined;
  /** The history record's id, when the caller must know it before the deploy ends (default: a new one). */
  deployId?: string | undefined;
}

/** What `deploy()` returns (the CLI prints it with --json). */
export interface DeployReport {
  remote: string;
  environment: string;
  database: string;
  backupId: string | null;
  templateHash: string | null;
  durationMs: number;
  phases: PhaseTiming[];
  result: 'success' | 'dry_run';
  /**
   * The verdict, as `remote test` and `doctor` give it: false only from a dry run whose checks
   * found a problem the deploy would refuse (a check failed with severity error; the CLI exits 3).
   * A deploy that returns succeeded: true.
   */
  ok: boolean;
  /** How the database was replaced, or `migrate`: pending migrations applied to it (see migrate-mode.ts). */
  mode: RestoreMode | 'migrate' | null;
  /** Where the replaced database is kept for `dbfast rollback`, or null. */
  previous: string | null;
  deployId: string;
  plan?: DeployPlan | undefined;
  /** Post hooks that failed under post_failure = "warn". */
  warnings: string[];
  /** The health check's answer, when one is configured. */
  health: HealthResult | null;
  /** Migrate mode: the migrations applied (a dry run: the ones that would be). */
  migrations?: string[] | undefined;
  /** Migrate mode, the database did not exist: it was created from the template, and these (which the template has) recorded as applied. */
  created?: { migrationsRecorded: string[] } | undefined;
  /** Every configured deploy group: succeeded, failed (under --continue-on-failure), skipped, or not run. */
  groups: GroupOutcome[];
  /** What the flags left out (also in the history record). */
  notes: string[];
}
