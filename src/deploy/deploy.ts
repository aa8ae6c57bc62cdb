import { rm } from 'node:fs/promises';
import { connectMaintenance, createDatabaseLike, databaseFacts, type AdminConnection } from '../backup/admin.js';
import { createBackup } from '../backup/create.js';
import { copyDatabaseProperties } from '../backup/db-properties.js';
import { countCheckSql, dropSchemasSql } from '../backup/in-place.js';
import { restoreBackup } from '../backup/restore.js';
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
import { newRecord, recordLocally, recordOnRemote, type DeployRecord, type PhaseTiming } from './history.js';
import { PhaseClock } from './phases.js';
import { planDeploy, type DeployPlan } from './plan.js';
import { decideDeployPolicy, type DeployMode } from './policy.js';
import { preflightError, remotePreflight, type RestoreMode } from './preflight.js';
import { createWorkDir } from './workdir.js';
import { newDeployId } from './id.js';

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
  mode: RestoreMode | null;
  /** Where the replaced database is kept for `dbfast rollback`, or null. */
  previous: string | null;
  deployId: string;
  plan?: DeployPlan | undefined;
}

// In its own module so that rollback does not load everything a deploy needs.
export { newDeployId };

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
  if (options.dryRun) {
    const plan = await planDeploy({ config, remote, policy, target, live });
    return { remote: remote.name, environment: policy.environment, database: live, backupId: null, templateHash: plan.template.hash, durationMs: 0, phases: [], result: 'dry_run', mode: plan.mode, previous: null, deployId, plan };
  }

  const record = newRecord({ deployId, kind: 'deploy', remote: remote.name, environment: policy.environment, database: live });
  const clock = new PhaseClock(logger);
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
          hint:
            m.kind === 'extension'
              ? 'Install the extension on the remote server (or have a superuser CREATE EXTENSION in the database).'
              : `Create the role on the remote, or set ${m.kind === 'owner' ? 'no_owner' : 'no_privileges'} = true under [remotes.${remote.name}].`,
        })),
      );
    }

    if (policy.backup && facts.databaseExists) {
      const scope = backupScope(config, remote.name, { logger, env });
      const created = await clock.run('backup', () => createBackup(scope));
      record.backupId = created.backup.id;
      logger.info(`backup ${created.backup.id} written and verified`);
    }

    if (mode === 'swap') {
      previous = await replaceBySwap({ config, options, remoteName: remote.name, adminClient, target, names, artifact, facts, clock, logger, validate: remote.validate, keepPrevious: remote.keepPrevious, superuser: facts.superuser, liveExists: facts.databaseExists, noOwner: remote.noOwner, noPrivileges: remote.noPrivileges });
      historyTarget = target;
    } else {
      await replaceInPlace({ config, target, live, artifact, clock, logger, validate: remote.validate, noOwner: remote.noOwner, noPrivileges: remote.noPrivileges, backupId: record.backupId, remoteName: remote.name, env });
    }
    record.result = 'success';
  } catch (error) {
    record.result = isDbfastError(error) && error.code === 'POST_SWAP_CHECK_FAILED' ? 'rolled_back' : 'failed';
    record.error = errorMessage(error);
    throw error;
  } finally {
    record.phases = clock.phases;
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
      await dropDatabaseIfExists(adminClient, names.side);
      throw new DbfastError('POST_SWAP_CHECK_FAILED', `checks after the swap failed; swapped the previous database back in:\n  ${outcome.problems.join('\n  ')}`, {
        hint: 'The live database is the one from before the deploy. Fix the validate queries or the template, then deploy again.',
        details: { problems: outcome.problems },
      });
    });
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
  await clock.run('validate', async () => {
    const outcome = await validateDatabase(ctx.target, artifact, ctx.validate);
    if (outcome.problems.length === 0) return;
    if (ctx.backupId) {
      logger.warn(`validation failed; restoring backup ${ctx.backupId}`);
      await restoreBackup(backupScope(ctx.config, ctx.remoteName, { logger, env: ctx.env }), ctx.backupId, { confirmed: true, lockHeld: true });
    }
    throw validationError(`database "${ctx.live}" after the in-place restore`, outcome.problems, ctx.backupId ? `Backup ${ctx.backupId} was restored.` : 'No backup was taken; restore one with `dbfast backup restore`.');
  });
}
