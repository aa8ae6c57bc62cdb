/** How a deploy replaces the live database: a side database swapped in, or in place in one transaction. */
import { createDatabaseLike, databaseFacts } from '../pg/admin.js';
import { copyDatabaseProperties } from '../pg/db-properties.js';
import { countCheckSql, dropSchemasSql } from '../replace/in-place-sql.js';
import { dropDatabaseIfExists, swapIn, swapNames } from '../replace/swap.js';
import { listSchemas } from '../validate/tables.js';
import { registerCleanup } from '../cleanup.js';
import type { DbfastConfig } from '../config/types.js';
import { restoreArchive } from '../archive/restore.js';
import { restoreInTransaction } from '../archive/transaction-restore.js';
import { DbfastError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { quoteIdent } from '../pg/quote.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { validateDatabase, validationError } from '../validate/database.js';
import type { TemplateArtifact } from './artifact.js';
import { watchCopyProgress } from '../archive/copy-progress.js';
import { clearPublicSql } from '../replace/clear-public.js';
import { carryOverDbfastSchema, DBFAST_SCHEMA } from '../history/schema.js';
import { exchangeDatabases } from '../replace/exchange.js';
import { PhaseClock } from '../history/phases.js';
import { undoInPlace, undoSwap } from './post-deploy.js';
import { remotePreflight } from '../remote/preflight.js';
import type { DeployOptions } from './types.js';

export interface SwapContext {
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
export async function replaceBySwap(ctx: SwapContext): Promise<string | null> {
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
        details: { problems: outcome.problems, rolledBack: true } });
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

export interface InPlaceContext {
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
export async function replaceInPlace(ctx: InPlaceContext): Promise<void> {
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
