import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
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
