import { rm } from 'node:fs/promises';
import { connectMaintenance, type AdminConnection } from '../pg/admin.js';
import { createBackup } from '../backup/create.js';
import { backupScope } from '../backup/scope.js';
import { databaseLockKey, dropDatabaseIfExists, swapNames } from '../replace/swap.js';
import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { errorMessage, isDbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryUnlock } from '../pg/lock.js';
import { databaseName, type DbTarget } from '../pg/target.js';
import { missingRequirements } from '../validate/requirements.js';
import { prepareTemplateArtifact } from './artifact.js';
import { deployByMigrations } from './migrate-mode.js';
import { newRecord, recordLocally, recordOnRemote, type DeployRecord } from '../history/records.js';
import { PhaseClock } from '../history/phases.js';
import { planDeploy } from './plan.js';
import { decideDeployPolicy } from '../remote/policy.js';
import { missingEnv, requiredEnvError, resolveHooks } from './hooks.js';
import { DeployHooks, wasRolledBack } from './post-deploy.js';
import { preflightError, remotePreflight } from '../remote/preflight.js';
import { replaceBySwap, replaceInPlace } from './replace-mode.js';
import { createWorkDir } from './workdir.js';
import { newDeployId } from '../history/id.js';
import type { DeployOptions, DeployReport } from './types.js';

export type { DeployOptions, DeployReport } from './types.js';

/** Records the outcome where it can: on the remote when `target` is given, always locally. */
async function recordOutcome(config: DbfastConfig, record: DeployRecord, target: DbTarget | undefined, logger: Logger): Promise<void> {
  record.finishedAt = new Date().toISOString();
  record.durationMs = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
  if (target) {
    await withClient(target, (client) => recordOnRemote(client, record)).catch((error: unknown) =>
      logger.warn(`could not record the deploy on the remote (${errorMessage(error)}); it is recorded locally`),
    );
  }
  await recordLocally(config, record).catch((error: unknown) => logger.warn(`could not write the local history: ${errorMessage(error)}`));
}

function requirementHint(kind: 'role' | 'owner' | 'extension', name: string, user: string, remote: string): string {
  if (kind === 'extension') return 'Install the extension on the remote server (or have a superuser CREATE EXTENSION in the database).';
  if (kind === 'owner') return `GRANT "${name}" TO "${user}" on the remote, or set no_owner = true under [remotes.${remote}] (objects then belong to ${user}).`;
  return `Create role "${name}" on the remote, or set no_owner = true (owners) / no_privileges = true (grants) under [remotes.${remote}] so they are not restored.`;
}

export async function deploy(options: DeployOptions): Promise<DeployReport> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const env = options.env ?? process.env;
  const remote = findRemote(config, options.remote);
  const policy = decideDeployPolicy({
    remote,
    environment: options.environment,
    confirmed: options.confirmed === true,
    skipBackup: options.skipBackup === true,
    dryRun: options.dryRun === true,
    mode: options.mode,
  });
  const target = remoteTarget(remote, env);
  const live = databaseName(target);
  const names = swapNames(live, 'new');
  const deployId = options.deployId ?? newDeployId();
  // Before anything connects: every missing variable at once (a dry run lists them as a failed check).
  const missingVars = missingEnv(resolveHooks(config, remote), env);
  if (missingVars.length > 0 && !options.dryRun) throw requiredEnvError(remote.name, missingVars);
  if (policy.mode === 'migrate') return deployByMigrations({ options, remote, policy, target, deployId });
  if (options.dryRun) {
    const plan = await planDeploy({ config, remote, policy, target, live, env });
    return { remote: remote.name, environment: policy.environment, database: live, backupId: null, templateHash: plan.template.hash, durationMs: 0, phases: [], result: 'dry_run', mode: plan.mode, previous: null, deployId, plan, warnings: [], health: null };
  }

  const record = newRecord({ deployId, kind: 'deploy', remote: remote.name, environment: policy.environment, database: live, trigger: options.trigger });
  const clock = new PhaseClock(logger);
  const hooks = new DeployHooks({ config, remote, environment: policy.environment, deployId, target, env, logger, clock });
  const pre = await clock.run('preflight', () => remotePreflight(target, config.tools.pgBinDir));
  if (pre.problems.length > 0 || !pre.facts || !pre.mode) {
    record.result = 'refused';
    record.error = pre.problems.map((p) => `${p.name}: ${p.detail}`).join('; ');
    await recordOutcome(config, record, undefined, logger);
    throw preflightError(remote.name, pre.problems);
  }
  const facts = pre.facts;
  const mode = pre.mode;
  let admin: AdminConnection | undefined;
  let workDir: string | undefined;
  let historyTarget: DbTarget | undefined = facts.databaseExists ? target : undefined;
  let previous: string | null = null;
  try {
    admin = await connectMaintenance(target, [live, names.side, names.previous]);
    const adminClient = admin.client;
    await acquireAdvisoryLock(adminClient, databaseLockKey(live), {
      timeoutMs: options.lockTimeoutMs,
      onWait: () => logger.info(`another dbfast operation holds database "${live}"; waiting for it to finish`),
    });
    if (await dropDatabaseIfExists(adminClient, names.side)) logger.info(`dropped "${names.side}", left behind by an interrupted deploy`);
    const work = await createWorkDir(config.rootDir);
    workDir = work.dir;

    const artifact = await clock.run('build', () => prepareTemplateArtifact(config, policy.environment, work.dir, logger));
    record.templateHash = artifact.templateHash;
    const missing = await missingRequirements(adminClient, artifact.requirements, { noOwner: remote.noOwner, noPrivileges: remote.noPrivileges });
    if (missing.length > 0) {
      throw preflightError(
        remote.name,
        missing.map((m) => ({
          name: m.kind,
          detail: m.reason,
          hint: requirementHint(m.kind, m.name, facts.currentUser, remote.name),
        })),
      );
    }

    await hooks.pre();

    if (policy.backup && facts.databaseExists) {
      const scope = backupScope(config, remote.name, { logger, env });
      const created = await clock.run('backup', () => createBackup(scope));
      record.backupId = created.backup.id;
      logger.info(`backup ${created.backup.id} written and verified`);
    }

    if (mode === 'swap') {
      previous = await replaceBySwap({ config, options, remoteName: remote.name, adminClient, target, names, artifact, facts, clock, logger, validate: remote.validate, keepPrevious: remote.keepPrevious, superuser: facts.superuser, liveExists: facts.databaseExists, noOwner: remote.noOwner, noPrivileges: remote.noPrivileges, afterDeploy: () => hooks.afterDeploy(record.backupId) });
      historyTarget = target;
    } else {
      await replaceInPlace({ config, target, live, artifact, clock, logger, validate: remote.validate, noOwner: remote.noOwner, noPrivileges: remote.noPrivileges, backupId: record.backupId, remoteName: remote.name, env, afterDeploy: () => hooks.afterDeploy(record.backupId) });
    }
    record.result = 'success';
  } catch (error) {
    record.result = wasRolledBack(error) ? 'rolled_back' : isDbfastError(error) && error.code === 'PREFLIGHT_FAILED' ? 'refused' : 'failed';
    record.error = errorMessage(error);
    throw error;
  } finally {
    record.phases = clock.phases;
    record.hooksOutput = hooks.output.text();
    await recordOutcome(config, record, historyTarget, logger);
    if (admin) {
      await advisoryUnlock(admin.client, databaseLockKey(live)).catch(() => undefined);
      await admin.client.end().catch(() => undefined);
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  }
  return {
    remote: remote.name,
    environment: policy.environment,
    database: live,
    backupId: record.backupId,
    templateHash: record.templateHash,
    durationMs: clock.phases.reduce((sum, phase) => sum + phase.durationMs, 0),
    phases: clock.phases,
    result: 'success',
    mode,
    previous,
    deployId,
    warnings: hooks.warnings,
    health: hooks.healthResult,
  };
}
