import { DbfastError } from '../errors.js';
import { newDeployId } from '../history/id.js';
import { runRecorded } from '../history/run.js';
import { resolveRemoteContext } from '../remote/context.js';
import { decideDeployPolicy } from '../remote/policy.js';
import { allNeededOk } from '../validate/types.js';
import { withGroupHint } from './group-run.js';
import { groupsMissingEnv, prepareAfterDeploy } from './groups.js';
import { missingEnv, requiredEnvError, resolveHooks } from './hooks.js';
import { deployByMigrations } from './migrate-mode.js';
import { planDeploy } from './plan.js';
import { replaceDeploy } from './replace-mode.js';
import type { DeployOptions, DeployReport } from './types.js';

export type { DeployOptions, DeployReport } from './types.js';

const DEFAULT_JOBS = 2;

function checkJobs(jobs: number | undefined): number {
  if (jobs === undefined) return DEFAULT_JOBS;
  if (Number.isInteger(jobs) && jobs >= 1) return jobs;
  throw new DbfastError('USAGE', `jobs (pg_restore jobs for the new database) must be a whole number of at least 1, not ${String(jobs)}`, { hint: 'e.g. --jobs 2' });
}

/**
 * Deploys the remote's environment: its template replaces the remote database (through a side
 * database, or in place without CREATEDB), or, on a remote that may not be replaced, pending
 * migrations are applied. Everything that needs only the config and the options is checked
 * first (remote, environment, confirmation, backup, mode, jobs, name length, required
 * variables), so a refused deploy has connected nowhere and written nothing.
 */
export async function deploy(options: DeployOptions): Promise<DeployReport> {
  const ctx = resolveRemoteContext({ ...options, replaces: true });
  const policy = decideDeployPolicy({
    remote: ctx.remote,
    environment: options.environment,
    confirmed: options.confirmed === true,
    skipBackup: options.skipBackup === true,
    dryRun: options.dryRun === true,
    mode: options.mode,
  });
  const jobs = checkJobs(options.jobs);
  // Groups named, found and read, before anything connects.
  const { after, selected, notes } = await prepareAfterDeploy(ctx.config, options);
  // Before anything connects: every missing variable at once (a dry run lists them as a failed check).
  const missingVars = [...new Set([...missingEnv(resolveHooks(ctx.config, ctx.remote), ctx.env), ...groupsMissingEnv(selected.run, ctx.env)])];
  if (options.skipValidation) notes.unshift(`--skip-validation: required variables were not checked${missingVars.length > 0 ? ` (not set: ${missingVars.join(', ')})` : ''}`);
  else if (missingVars.length > 0 && !options.dryRun) throw requiredEnvError(ctx.remote.name, missingVars);
  const base = { remote: ctx.remote.name, environment: policy.environment, database: ctx.database };
  if (options.dryRun) {
    const plan = await planDeploy(ctx, policy, { after, missingEnv: missingVars, skipValidation: options.skipValidation === true });
    const groups = plan.groups.map((group) => ({ name: group.name, order: group.order, status: group.selected ? ('not_run' as const) : ('skipped' as const), reason: group.selected ? 'dry run' : group.reason, files: group.files, commands: group.commands, durationMs: null, health: null }));
    return { ...base, backupId: null, templateHash: null, durationMs: 0, phases: [], result: 'dry_run', ok: allNeededOk(plan.checks), mode: plan.mode, previous: null, deployId: options.deployId ?? newDeployId(), plan, warnings: [], health: null, groups, notes, ...(plan.migrations ? { migrations: plan.migrations } : {}) };
  }
  return runRecorded('deploy', ctx, async (run) => {
    run.record.notes.push(...notes);
    const input = { ctx, run, policy, jobs, lockTimeoutMs: options.lockTimeoutMs, after };
    const outcome =
      policy.mode === 'migrate'
        ? await deployByMigrations(input).catch(withGroupHint)
        : await replaceDeploy(input).catch(withGroupHint).then((done) => ({ mode: done.mode, previous: done.previous, warnings: done.hooks.warnings, health: done.hooks.healthResult, groups: done.hooks.groups }));
    return {
      ...base,
      backupId: run.record.backupId,
      templateHash: run.record.templateHash,
      durationMs: run.clock.total(),
      phases: run.clock.phases,
      result: 'success',
      ok: true,
      deployId: run.record.deployId,
      notes: run.record.notes,
      ...outcome,
    };
  }, { deployId: options.deployId, trigger: options.trigger });
}
