import type pg from 'pg';
import { restoreBackup } from '../backup/restore.js';
import { backupScope } from '../backup/scope.js';
import { dropDatabaseIfExists, type SwapNames } from '../replace/swap.js';
import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import { exchangeDatabases } from '../replace/exchange.js';
import { checkHealth, healthError, resolveHealthCheck, type HealthCheck, type HealthResult } from './health.js';
import { HookOutput, resolveHooks, runHooks, type HookRunContext, type HookSet } from './hooks.js';
import type { PhaseClock } from '../history/phases.js';

/**
 * The user's commands and checks around one deploy: pre hooks before anything changes, then
 * after the new database is live the post hooks and the health check. Whatever they print is
 * kept for the history record.
 */
export class DeployHooks {
  readonly hooks: HookSet;
  readonly health: HealthCheck | undefined;
  readonly output = new HookOutput();
  /** Post hooks that failed under post_failure = "warn". */
  readonly warnings: string[] = [];
  healthResult: HealthResult | null = null;

  constructor(
    private readonly input: {
      config: DbfastConfig;
      remote: RemoteConfig;
      environment: string;
      deployId: string;
      target: DbTarget;
      env: NodeJS.ProcessEnv;
      logger: Logger;
      clock: PhaseClock;
    },
  ) {
    this.hooks = resolveHooks(input.config, input.remote);
    this.health = resolveHealthCheck(input.remote.healthCheck);
  }

  private context(backupId: string | null): HookRunContext {
    const { input } = this;
    return {
      remote: input.remote.name,
      environment: input.environment,
      deployId: input.deployId,
      backupId,
      target: input.target,
      cwd: input.config.rootDir,
      env: input.env,
      logger: input.logger,
      output: this.output,
    };
  }

  /** Phase `pre-hooks` (only when there are any). A failure throws PRE_HOOK_FAILED: nothing has changed yet. */
  async pre(): Promise<void> {
    if (this.hooks.pre.length === 0) return;
    await this.input.clock.run('pre-hooks', () => runHooks('pre', this.hooks.pre, this.context(null), this.hooks.timeoutSeconds));
  }

  /**
   * Phases `post-hooks` and `health`, once the new database is live. Throws when the deploy must
   * be undone: a failing post hook (unless post_failure = "warn"), or a failing health check.
   */
  async afterDeploy(backupId: string | null): Promise<void> {
    const { clock, logger } = this.input;
    if (this.hooks.post.length > 0) {
      await clock.run('post-hooks', async () => {
        try {
          await runHooks('post', this.hooks.post, this.context(backupId), this.hooks.timeoutSeconds);
        } catch (error) {
          if (this.hooks.postFailure !== 'warn') throw error;
          const warning = `${errorMessage(error)} (post_failure = "warn": the deploy stays)`;
          this.warnings.push(warning);
          logger.warn(warning);
        }
      });
    }
    const health = this.health;
    if (health) {
      await clock.run('health', async () => {
        const result = await checkHealth(health);
        this.healthResult = result;
        if (!result.ok) throw healthError(result, health.timeoutSeconds);
        logger.info(`health check ${result.url} answered ${result.status}`);
      });
    }
  }
}

/** The deploy was undone and the live database is the one from before it (history result `rolled_back`). */
export function wasRolledBack(error: unknown): boolean {
  return isDbfastError(error) && error.details?.rolledBack === true;
}

function withOutcome(error: unknown, sentence: string, hint: string, rolledBack: boolean): DbfastError {
  const original = isDbfastError(error) ? error : undefined;
  return new DbfastError(original?.code ?? 'POST_DEPLOY_FAILED', `${errorMessage(error)}\n${sentence}`, {
    hint,
    cause: error,
    details: { ...original?.details, rolledBack },
  });
}

/** Swap mode: exchange names with the kept previous database, then drop the new one. */
export async function undoSwap(
  error: unknown,
  ctx: { adminClient: pg.Client; names: SwapNames; previous: string | null; clock: PhaseClock; logger: Logger },
): Promise<DbfastError> {
  const { adminClient, names, previous } = ctx;
  if (!previous) {
    return withOutcome(error, 'There was no database before this deploy, so there is nothing to go back to: the new database stays live.', 'Drop or fix the database by hand if it must not stay.', false);
  }
  try {
    await ctx.clock.run('rollback', async () => {
      await exchangeDatabases(adminClient, names.live, previous, names.side);
      // The exchange gave the failed database the previous one's name: a later `dbfast rollback` must not bring it back.
      await dropDatabaseIfExists(adminClient, previous);
    });
  } catch (undo) {
    ctx.logger.warn(`could not swap the previous database back: ${errorMessage(undo)}`);
    return withOutcome(error, `Swapping the previous database back failed (${errorMessage(undo)}); the new database is still live and the old one is "${previous}".`, '`dbfast rollback --remote NAME` retries the swap back.', false);
  }
  return withOutcome(error, `Rolled back: the previous database is live again as "${names.live}"; the new one was dropped.`, 'Fix the cause above, then deploy again.', true);
}

/** In-place mode: restore the backup taken before the deploy (under the lock the deploy holds). */
export async function undoInPlace(
  error: unknown,
  ctx: { config: DbfastConfig; remoteName: string; backupId: string | null; env: NodeJS.ProcessEnv; clock: PhaseClock; logger: Logger },
): Promise<DbfastError> {
  const { backupId, logger } = ctx;
  if (!backupId) {
    return withOutcome(error, 'No backup was taken before this deploy, so it cannot be undone: the new schemas stay.', 'Restore an older backup with `dbfast backup restore` if they must go.', false);
  }
  logger.warn(`restoring backup ${backupId} after: ${errorMessage(error).split('\n')[0] ?? ''}`);
  try {
    await ctx.clock.run('rollback', () =>
      restoreBackup(backupScope(ctx.config, ctx.remoteName, { logger, env: ctx.env }), backupId, { confirmed: true, lockHeld: true }).then(() => undefined),
    );
  } catch (undo) {
    return withOutcome(error, `Restoring backup ${backupId} failed too (${errorMessage(undo)}).`, `Restore it by hand: dbfast backup restore --remote ${ctx.remoteName} --backup-id ${backupId} --confirm`, false);
  }
  return withOutcome(error, `Rolled back: backup ${backupId} was restored.`, 'Fix the cause above, then deploy again.', true);
}
