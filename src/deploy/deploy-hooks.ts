import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import { interrupted } from '../cleanup.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import { checkHealth, healthError, resolveHealthCheck, type HealthCheck, type HealthResult } from './health.js';
import { HookOutput, resolveHooks, runHooks, type HookRunContext, type HookSet } from './hooks.js';
import { pendingOutcome, runGroup, type GroupOutcome } from './group-run.js';
import type { AfterDeployOptions } from './groups.js';
import type { PhaseClock } from '../history/phases.js';

const NO_GROUPS: AfterDeployOptions = { groups: [], skipped: [], sequence: [], continueOnFailure: false, healthChecks: true };

/**
 * The user's commands and checks around one deploy: pre hooks before anything changes, then
 * after the new database is live the deploy groups in order, the post hooks and the health
 * check. Whatever they print is kept for the history record.
 */
export class DeployHooks {
  readonly hooks: HookSet;
  readonly health: HealthCheck | undefined;
  readonly output = new HookOutput();
  /** Post hooks that failed under post_failure = "warn", groups that failed under --continue-on-failure. */
  readonly warnings: string[] = [];
  healthResult: HealthResult | null = null;
  /** Every configured group: run, failed, skipped or not run (yet). */
  readonly groups: GroupOutcome[];
  private readonly after: AfterDeployOptions;

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
      after?: AfterDeployOptions | undefined;
      /** Where a group that failed under --continue-on-failure is noted (the history record's notes). */
      notes?: string[] | undefined;
    },
  ) {
    this.hooks = resolveHooks(input.config, input.remote);
    this.health = resolveHealthCheck(input.remote.healthCheck);
    this.after = input.after ?? NO_GROUPS;
    this.groups = [
      ...this.after.groups.map((group) => pendingOutcome(group, 'not_run', 'the deploy did not get that far')),
      ...this.after.skipped.map((group) => ({ name: group.name, order: group.order, status: 'skipped' as const, reason: group.reason, files: [], commands: [], durationMs: null, health: null })),
    ].sort((a, b) => this.after.sequence.indexOf(a.name) - this.after.sequence.indexOf(b.name));
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
   * Phases `group:NAME` (each selected group, in order), `post-hooks` and `health`, once the new
   * database is live. Throws when the deploy must be undone: a failing group (unless
   * --continue-on-failure), a failing post hook (unless post_failure = "warn"), or a failing
   * health check.
   */
  async afterDeploy(backupId: string | null): Promise<void> {
    const { clock, logger } = this.input;
    await this.runGroups(backupId);
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
    if (health && !this.after.healthChecks) logger.info(`health check ${health.url} skipped (--no-health-check)`);
    if (health && this.after.healthChecks) {
      await clock.run('health', async () => {
        const result = await checkHealth(health);
        this.healthResult = result;
        if (!result.ok) throw healthError(result, health.timeoutSeconds);
        logger.info(`health check ${result.url} answered ${result.status}`);
      });
    }
  }

  private outcomeOf(name: string): GroupOutcome {
    return this.groups.find((outcome) => outcome.name === name) as GroupOutcome;
  }

  /** The selected groups in order; the first failure throws unless --continue-on-failure. */
  private async runGroups(backupId: string | null): Promise<void> {
    const { clock, logger } = this.input;
    for (const group of this.after.groups) {
      if (interrupted()) return;
      const input = { commands: this.context(backupId), clock, timeoutSeconds: this.hooks.timeoutSeconds, healthChecks: this.after.healthChecks };
      try {
        Object.assign(this.outcomeOf(group.name), await runGroup(group, input));
      } catch (error) {
        const outcome = (error as { details?: { outcome?: GroupOutcome } }).details?.outcome;
        if (outcome) Object.assign(this.outcomeOf(group.name), outcome);
        if (!this.after.continueOnFailure || interrupted()) {
          for (const later of this.groups) if (later.status === 'not_run') later.reason = `group "${group.name}" failed before it`;
          throw error;
        }
        const warning = `${errorMessage(error).split('\n')[0] ?? ''} (--continue-on-failure: the deploy goes on)`;
        this.warnings.push(warning);
        this.input.notes?.push(`group ${group.name} failed and the deploy went on (--continue-on-failure)`);
        logger.warn(warning);
      }
    }
  }
}
