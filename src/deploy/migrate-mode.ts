import type { RemoteConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { silentLogger } from '../logger.js';
import { migrationFiles } from '../migrate/files.js';
import { recordRun } from '../history/record-run.js';
import { runMigrations, selectMigrations } from '../migrate/run.js';
import { migrateScope } from '../migrate/scope.js';
import { withClient } from '../pg/client.js';
import { maskUrl, type DbTarget } from '../pg/target.js';
import { validateDatabase, validationError } from '../validate/database.js';
import type { DeployOptions, DeployReport } from './types.js';
import { newRecord } from '../history/records.js';
import { planHooks } from './hook-plan.js';
import { PhaseClock } from '../history/phases.js';
import { DeployHooks } from './post-deploy.js';
import type { DeployPolicy } from '../remote/policy.js';
import { preflightError, remotePreflight } from '../remote/preflight.js';

export interface MigrateDeployInput {
  options: DeployOptions;
  remote: RemoteConfig;
  policy: DeployPolicy;
  target: DbTarget;
  deployId: string;
}

const NO_DATABASE_HINT = 'A migrate deploy changes an existing database. Create it (and its schema) first: deploy once with --mode replace where allow_destructive allows it, or restore a backup; then baseline it with `dbfast migrate mark-applied`.';

/**
 * `dbfast deploy` on a remote whose database is not replaced (allow_destructive = false, or
 * --mode migrate): preflight, lock, backup, pending migrations, the remote's validate queries,
 * history. Production data stays where it is; nothing is built, restored or swapped.
 */
export async function deployByMigrations(input: MigrateDeployInput): Promise<DeployReport> {
  const { options, remote, policy, target, deployId } = input;
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const scope = migrateScope({ config, remote: remote.name, environment: policy.environment, env: options.env });
  const base = { remote: remote.name, environment: policy.environment, database: scope.database, templateHash: null, mode: 'migrate' as const, previous: null, deployId };

  if (options.dryRun) {
    const pre = await remotePreflight(target, config.tools.pgBinDir);
    const hooksPlan = planHooks(config, remote, options.env ?? process.env);
    pre.checks.push(...hooksPlan.checks);
    const exists = pre.facts?.databaseExists === true;
    const files = await migrationFiles(config, scope.environment);
    const pending = exists ? (await withClient(target, (client) => selectMigrations(client, files, scope, {}))).selected.map((m) => m.file.id) : files.map((f) => f.id);
    const backup = policy.backup ? (exists ? 'yes' : 'no (the database does not exist)') : 'skipped';
    const steps = [
      'check connectivity, privileges and client tools',
      `lock database "${scope.database}" against other deploys, restores and appliers`,
      ...hooksPlan.preSteps,
      policy.backup ? `back up "${scope.database}" to ${config.backup.dir}/${remote.name}/ and verify it` : 'no backup',
      pending.length > 0 ? `apply ${pending.length} migration(s), each in its own transaction: ${pending.join(', ')}` : 'no pending migrations',
      remote.validate.length > 0 ? `run ${remote.validate.length} validate quer${remote.validate.length === 1 ? 'y' : 'ies'}` : 'no validate queries',
      ...hooksPlan.postSteps,
      'record the deploy in dbfast.deploy_history on the remote and in .dbfast/history/',
    ];
    const plan = {
      remote: remote.name,
      url: maskUrl(target.url),
      database: scope.database,
      environment: policy.environment,
      mode: 'migrate' as const,
      template: { name: '', state: 'not used', files: 0, changed: [], hash: null },
      backup,
      replaces: `nothing: migrations from ${scope.directories.join(', ')} are applied to "${scope.database}"`,
      checks: pre.checks,
      steps,
      migrations: pending,
      hooks: hooksPlan.hooks,
    };
    return { ...base, backupId: null, durationMs: 0, phases: [], result: 'dry_run', plan, migrations: pending, warnings: [], health: null };
  }

  const record = newRecord({ deployId, kind: 'deploy', remote: remote.name, environment: policy.environment, database: scope.database, trigger: options.trigger });
  const clock = new PhaseClock(logger);
  const hooks = new DeployHooks({ config, remote, environment: policy.environment, deployId, target, env: options.env ?? process.env, logger, clock });
  const pre = await clock.run('preflight', () => remotePreflight(target, config.tools.pgBinDir));
  const problems = [...pre.problems];
  if (pre.facts && !pre.facts.databaseExists) {
    problems.push({ name: 'database', ok: false, severity: 'error', detail: `database "${scope.database}" does not exist; there is nothing to migrate`, hint: NO_DATABASE_HINT });
  }
  if (problems.length > 0) {
    record.result = 'refused';
    record.error = problems.map((p) => `${p.name}: ${p.detail}`).join('; ');
    record.phases = clock.phases;
    await recordRun(config, record, undefined, logger);
    throw preflightError(remote.name, problems);
  }

  let applied: string[];
  try {
    await hooks.pre();
    const outcome = await runMigrations({
      scope,
      backup: policy.backup,
      lockTimeoutMs: options.lockTimeoutMs,
      logger,
      clock,
      record,
      afterApply: () =>
        clock.run('validate', async () => {
          const outcome = await validateDatabase(target, undefined, remote.validate);
          if (outcome.problems.length === 0) return;
          throw validationError(`database "${scope.database}" after its migrations`, outcome.problems,
            record.backupId
              ? `The migrations stay applied. Fix what the queries found, or go back to before this deploy: \`dbfast backup restore --remote ${remote.name} --backup-id ${record.backupId}\`.`
              : 'The migrations stay applied (no backup was taken). Fix what the queries found with a new migration.');
        }).then(() => hooks.afterDeploy(record.backupId)),
    });
    applied = outcome.applied.map((a) => a.id);
    record.result = 'success';
  } catch (error) {
    record.result = 'failed';
    record.error = errorMessage(error);
    throw error;
  } finally {
    record.phases = clock.phases;
    record.hooksOutput = hooks.output.text();
    await recordRun(config, record, target, logger);
  }
  return {
    ...base,
    backupId: record.backupId,
    durationMs: clock.phases.reduce((sum, phase) => sum + phase.durationMs, 0),
    phases: clock.phases,
    result: 'success',
    migrations: applied,
    warnings: hooks.warnings,
    health: hooks.healthResult,
  };
}
