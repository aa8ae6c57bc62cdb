import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { connectMaintenance, createDatabaseLike, databaseFacts, type AdminConnection } from '../backup/admin.js';
import { createBackup } from '../backup/create.js';
import { copyDatabaseProperties } from '../backup/db-properties.js';
import { countCheckSql, dropSchemasSql } from '../backup/in-place.js';
import { backupScope } from '../backup/scope.js';
import { databaseLockKey, dropDatabaseIfExists, swapIn, swapNames } from '../backup/swap.js';
import { listSchemas } from '../backup/tables.js';
import { registerCleanup } from '../cleanup.js';
import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { restoreArchive } from '../dump/restore.js';
import { restoreInTransaction } from '../dump/transaction-restore.js';
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryUnlock } from '../pg/lock.js';
import { quoteIdent } from '../pg/quote.js';
import { databaseName, withDatabase, type DbTarget } from '../pg/target.js';
import { validateDatabase, validationError } from '../validate/database.js';
import { missingRequirements } from '../validate/requirements.js';
import { prepareTemplateArtifact, type TemplateArtifact } from './artifact.js';
import { watchCopyProgress } from './copy-progress.js';
import { clearPublicSql } from './clear-public.js';
import { carryOverDbfastSchema, DBFAST_SCHEMA } from '../pg/dbfast-schema.js';
import { exchangeDatabases } from './exchange.js';
import { deployByMigrations } from './migrate-mode.js';
import { newRecord, recordLocally, recordOnRemote, type DeployRecord, type PhaseTiming } from './history.js';
import { PhaseClock } from './phases.js';
import { planDeploy, type DeployPlan } from './plan.js';
import { decideDeployPolicy, type DeployMode } from './policy.js';
import type { HealthResult } from './health.js';
import { missingEnv, requiredEnvError, resolveHooks } from './hooks.js';
import { DeployHooks, undoInPlace, undoSwap, wasRolledBack } from './post-deploy.js';
import { preflightError, remotePreflight, type RestoreMode } from './preflight.js';
import { createWorkDir } from './workdir.js';

export interface DeployOptions {
  config: DbfastConfig;
  remote: string;
  environment?: string | undefined;
  confirmed?: boolean | undefined;
  dryRun?: boolean | undefined;
  skipBackup?: boolean | undefined;
  mode?: DeployMode | undefined;
  /** Give up when another deploy/restore/rollback of the database holds the lock this long; default: wait. */
  lockTimeoutMs?: number | undefined;
  /** pg_restore jobs for the side database (default 2). */
  jobs?: number | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface DeployReport {
  remote: string;
  environment: string;
  database: string;
  backupId: string | null;
  templateHash: string | null;
  durationMs: number;
  phases: PhaseTiming[];
  result: 'success' | 'dry_run';
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
}

export function newDeployId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
}

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
  const deployId = newDeployId();
  // Before anything connects: every missing variable at once (a dry run lists them as a failed check).
  const missingVars = missingEnv(resolveHooks(config, remote), env);
  if (missingVars.length > 0 && !options.dryRun) throw requiredEnvError(remote.name, missingVars);
  if (policy.mode === 'migrate') return deployByMigrations({ options, remote, policy, target, deployId });
  if (options.dryRun) {
    const plan = await planDeploy({ config, remote, policy, target, live, env });
    return { remote: remote.name, environment: policy.environment, database: live, backupId: null, templateHash: plan.template.hash, durationMs: 0, phases: [], result: 'dry_run', mode: plan.mode, previous: null, deployId, plan, warnings: [], health: null };
  }

  const record = newRecord({ deployId, kind: 'deploy', remote: remote.name, environment: policy.environment, database: live });
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

interface SwapContext {
  config: DbfastConfig;
  options: DeployOptions;
  remoteName: string;
  adminClient: import('pg').Client;
  target: DbTarget;
  names: ReturnType<typeof swapNames>;
  artifact: TemplateArtifact;
  facts: NonNullable<Awaited<ReturnType<typeof remotePreflight>>['facts']>;
  clock: PhaseClock;
  logger: Logger;
  validate: string[];
  keepPrevious: boolean;
  superuser: boolean;
  liveExists: boolean;
  noOwner: boolean;
  noPrivileges: boolean;
  /** Post hooks and health check, once live; a failure swaps the previous database back. */
  afterDeploy: () => Promise<void>;
}

/** Restore into `<db>__dbfast_new`, validate it, then rename it in; the live database is untouched until the swap. */
async function replaceBySwap(ctx: SwapContext): Promise<string | null> {
  const { adminClient, names, artifact, clock, logger } = ctx;
  const sideTarget = withDatabase(ctx.target, names.side);
  const like = ctx.liveExists ? await databaseFacts(adminClient, names.live) : undefined;
  await createDatabaseLike(adminClient, names.side, like, ctx.superuser);
  const unregister = registerCleanup(() => dropDatabaseIfExists(adminClient, names.side).then(() => undefined));
  let swapped = false;
  try {
    const totalRows = Object.values(artifact.rowCounts).reduce((sum, n) => sum + n, 0);
    await clock.run('restore', async () => {
      const stop = watchCopyProgress(adminClient, names.side, totalRows, logger);
      try {
        await restoreArchive(sideTarget, artifact.archive, {
          jobs: ctx.options.jobs ?? 2,
          noOwner: ctx.noOwner,
          noPrivileges: ctx.noPrivileges,
          pgBinDir: ctx.config.tools.pgBinDir,
          logger,
        });
      } finally {
        stop();
      }
    });
    await clock.run('validate', async () => {
      const outcome = await validateDatabase(sideTarget, artifact, ctx.validate);
      if (outcome.problems.length > 0) {
        throw validationError(`the new database "${names.side}"`, outcome.problems, 'The live database was not touched. Fix the template or the validate queries, then deploy again.');
      }
    });
    let previous: string | null = null;
    await clock.run('swap', async () => {
      if (ctx.liveExists) {
        await withClient(ctx.target, (from) => withClient(sideTarget, (to) => carryOverDbfastSchema(from, to)));
        await copyDatabaseProperties(adminClient, names.live, names.side, logger);
        previous = (await swapIn(adminClient, names, { keepPrevious: true })).previous;
      } else {
        await adminClient.query(`ALTER DATABASE ${quoteIdent(names.side)} RENAME TO ${quoteIdent(names.live)}`);
      }
      swapped = true;
    });
    await clock.run('verify', async () => {
      const outcome = await validateDatabase(ctx.target, undefined, ctx.validate).catch((error: unknown) => ({ problems: [errorMessage(error)] }));
      if (outcome.problems.length === 0) return;
      if (!previous) {
        throw new DbfastError('POST_SWAP_CHECK_FAILED', `checks after the swap failed and there is no previous database to swap back to:\n  ${outcome.problems.join('\n  ')}`, {
          hint: 'The new database is live. Restore a backup with `dbfast backup restore` if it must go.',
        });
      }
      await exchangeDatabases(adminClient, names.live, previous, names.side);
      // The exchange gave the failed database the previous one's name.
      await dropDatabaseIfExists(adminClient, previous);
      throw new DbfastError('POST_SWAP_CHECK_FAILED', `checks after the swap failed; swapped the previous database back in:\n  ${outcome.problems.join('\n  ')}`, {
        hint: 'The live database is the one from before the deploy. Fix the validate queries or the template, then deploy again.',
        details: { problems: outcome.problems, rolledBack: true },
      });
    });
    try {
      await ctx.afterDeploy();
    } catch (error) {
      throw await undoSwap(error, { adminClient, names, previous, clock, logger });
    }
    if (previous && !ctx.keepPrevious) {
      await dropDatabaseIfExists(adminClient, previous);
      previous = null;
    }
    return previous;
  } finally {
    if (!swapped) await dropDatabaseIfExists(adminClient, names.side).catch((error: unknown) => logger.warn(`could not drop "${names.side}": ${errorMessage(error)}`));
    unregister();
  }
}

interface InPlaceContext {
  config: DbfastConfig;
  target: DbTarget;
  live: string;
  artifact: TemplateArtifact;
  clock: PhaseClock;
  logger: Logger;
  validate: string[];
  noOwner: boolean;
  noPrivileges: boolean;
  backupId: string | null;
  remoteName: string;
  env: NodeJS.ProcessEnv;
  /** Post hooks and health check; a failure (like failed validation) restores the backup. */
  afterDeploy: () => Promise<void>;
}

/**
 * For users who may not create databases: the template replaces the live database's schemas
 * inside ONE transaction, row counts checked before COMMIT, so any failure rolls back.
 */
async function replaceInPlace(ctx: InPlaceContext): Promise<void> {
  const { artifact, clock, logger } = ctx;
  ctx.logger.info(`the remote user cannot create databases: replacing "${ctx.live}" in place, in one transaction`);
  const liveSchemas = (await withClient(ctx.target, (client) => listSchemas(client))).filter((schema) => schema !== DBFAST_SCHEMA);
  const expected = Object.entries(artifact.rowCounts).map(([name, rows]) => {
    const dot = name.indexOf('.');
    return { schema: name.slice(0, dot), table: name.slice(dot + 1), rows };
  });
  await clock.run('restore', () =>
    restoreInTransaction(ctx.target, artifact.archive, {
      clean: true,
      noOwner: ctx.noOwner,
      noPrivileges: ctx.noPrivileges,
      before: `${dropSchemasSql(liveSchemas)}\n${clearPublicSql()}`,
      after: countCheckSql(expected, `template ${artifact.build.template}`),
      pgBinDir: ctx.config.tools.pgBinDir,
      logger,
    }),
  );
  // The restore has committed: from here on a failure puts the backup back.
  try {
    await clock.run('validate', async () => {
      const outcome = await validateDatabase(ctx.target, artifact, ctx.validate);
      if (outcome.problems.length > 0) throw validationError(`database "${ctx.live}" after the in-place restore`, outcome.problems, 'Fix the template or the validate queries.');
    });
    await ctx.afterDeploy();
  } catch (error) {
    throw await undoInPlace(error, { config: ctx.config, remoteName: ctx.remoteName, backupId: ctx.backupId, env: ctx.env, clock, logger });
  }
}
