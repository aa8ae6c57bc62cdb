import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DeployTrigger } from '../history/records.js';
import { interrupted, registerCleanup } from '../cleanup.js';
import { newDeployId } from '../history/id.js';
import { DbfastError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ServerRepository } from './git.js';
import type { WebhookMetrics } from './metrics.js';
import { DeployQueue, type QueueJob } from './queue.js';
import type { DeployRunner } from './runner.js';
import type { WebhookRoute, WebhookSettings } from './settings.js';
import type { WebhookEvent, WebhookEventStore, WebhookOutcome } from './store.js';

/*
 * The deploy side of `dbfast webhook serve`: the queued deploys of recorded deliveries, each run
 * as fetch, worktree, deploy, record. The HTTP side (verify, parse, route, record) is service.ts.
 */

interface DeployJob extends QueueJob {
  row: WebhookEvent;
  route: WebhookRoute;
  commit: string;
  trigger: DeployTrigger;
}

export interface DeployJobsOptions {
  settings: WebhookSettings;
  /** The serving config's `[backup] dir`, for deploys whose own config keeps backups in the worktree. */
  backupDir: string;
  /** The serving config's remotes' environments: the template a route's deploys build. */
  remoteEnvironments: Record<string, string>;
  store: WebhookEventStore;
  repository: ServerRepository;
  metrics: WebhookMetrics;
  runner: DeployRunner;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** A job's delivery record as it ended (deployed, failed, superseded, cancelled): logged by the caller. */
  onFinished: (row: WebhookEvent) => void;
}

/** The deploys of queued deliveries: one per remote at a time, each outcome recorded once. */
export class DeployJobs {
  private readonly queue: DeployQueue<DeployJob>;
  private readonly lastByRoute = new Map<string, WebhookEvent>();
  /** Jobs whose outcome is recorded as final (an interrupt's clean-up must not overwrite it). */
  private readonly finished = new WeakSet<DeployJob>();

  constructor(private readonly options: DeployJobsOptions) {
    this.queue = new DeployQueue<DeployJob>({
      maxParallel: options.settings.maxParallel,
      run: (job) => this.runJob(job),
      onSuperseded: (job, by) => void this.supersede(job, by),
      onChange: () => {
        options.metrics.queueDepth.set(this.queue.depth);
        options.metrics.running.set(this.queue.active.length);
      },
    });
  }

  /** Restores each route's last result from the records (for /health after a restart). */
  async loadLastResults(): Promise<void> {
    for (const row of await this.options.store.lastPerRoute()) if (row.route) this.lastByRoute.set(row.route, row);
  }

  /** Queues a deploy for each recorded row whose outcome is `queued`. */
  enqueue(rows: WebhookEvent[]): void {
    for (const row of rows) {
      if (row.outcome !== 'queued' || !row.route || !row.remote || !row.commit) continue;
      const route = this.options.settings.routes.find((r) => r.name === row.route) as WebhookRoute;
      const environment = route.environment ?? this.options.remoteEnvironments[route.remote] ?? route.remote;
      const trigger: DeployTrigger = { provider: row.provider, deliveryId: row.deliveryId ?? row.requestId, commit: row.commit, sender: row.sender, ref: row.ref };
      this.queue.add({ remote: route.remote, templateKey: environment, row, route, commit: row.commit, trigger });
    }
  }

  private async finishJob(job: DeployJob, outcome: WebhookOutcome, change: { detail?: string; error?: string; deployId?: string | null }, startedAt?: number): Promise<void> {
    const { store, metrics, logger } = this.options;
    this.finished.add(job);
    await store.update(job.row.id, { outcome, ...change, finished: true }).catch((error: unknown) => logger.warn(`could not record the outcome of ${job.row.requestId}: ${errorMessage(error)}`));
    const durationMs = startedAt === undefined ? null : Date.now() - startedAt;
    metrics.deploys.inc({ remote: job.remote, outcome });
    if (durationMs !== null) metrics.deployDuration.observe({ remote: job.remote, outcome }, durationMs / 1000);
    const row: WebhookEvent = { ...job.row, outcome, detail: change.detail ?? job.row.detail, error: change.error ?? null, deployId: change.deployId ?? job.row.deployId, durationMs, finishedAt: new Date().toISOString() };
    this.lastByRoute.set(job.route.name, row);
    this.options.onFinished(row);
  }

  private async supersede(job: DeployJob, by: DeployJob): Promise<void> {
    await this.finishJob(job, 'superseded', { detail: `superseded by commit ${by.commit} (request ${by.row.requestId}) before it started` });
  }

  private async runJob(job: DeployJob): Promise<void> {
    const { settings, store, repository, runner, logger, env } = this.options;
    const started = Date.now();
    const deployId = newDeployId();
    job.row.deployId = deployId;
    await store.update(job.row.id, { outcome: 'running', deployId, started: true }).catch((error: unknown) => logger.warn(`could not record the start of ${job.row.requestId}: ${errorMessage(error)}`));
    // An interrupt (a second SIGTERM, Ctrl-C) ends the process with this deploy unfinished: its
    // record says so instead of staying `running` for ever. Registered first, it runs after the
    // deploy's own clean-ups (newest first), when the live database is as it will stay.
    const unregister = registerCleanup(async (reason) => {
      if (!this.finished.has(job)) await this.finishJob(job, 'failed', { deployId, error: `the server was interrupted (${reason}) during this deploy; \`dbfast history --remote ${job.remote}\` shows how far it got` }, started);
    });
    const prefix = `[${job.route.name} ${job.commit.slice(0, 12)}]`;
    const jobLogger: Logger = {
      info: (message) => logger.debug(`${prefix} ${message}`),
      warn: (message) => logger.warn(`${prefix} ${message}`),
      debug: (message) => logger.debug(`${prefix} ${message}`),
      progress: () => undefined,
    };
    try {
      await repository.fetchCommit(job.commit);
      const tree = await repository.checkout(job.commit, `${job.row.requestId}-${job.route.remote}`);
      try {
        const configPath = path.join(tree.dir, settings.configInRepository);
        if (!existsSync(configPath)) {
          throw new DbfastError('WEBHOOK_NO_CONFIG', `commit ${job.commit} has no ${settings.configInRepository}`, {
            hint: 'Commit dbfast.toml to the repository (or set [webhooks] config to where it is in the repository).',
          });
        }
        await runner({
          configPath, worktreeDir: tree.dir, remote: job.remote, environment: job.route.environment, confirmed: job.route.confirm,
          trigger: job.trigger, deployId, backupDir: this.options.backupDir, logger: jobLogger, env,
        });
      } finally {
        await tree.remove().catch((error: unknown) => logger.warn(`could not remove the worktree ${tree.dir}: ${errorMessage(error)}`));
      }
      unregister();
      await this.finishJob(job, 'deployed', { deployId }, started);
    } catch (error) {
      unregister();
      // The interrupt's own clean-ups (a hook it killed, a restore it stopped) may fail the deploy
      // before the handler above runs: the record says what happened first.
      const signal = interrupted();
      const message = signal ? `the server was interrupted (${signal}) during this deploy; \`dbfast history --remote ${job.remote}\` shows how far it got (${errorMessage(error)})` : errorMessage(error);
      await this.finishJob(job, 'failed', { deployId, error: message }, started);
    }
  }

  /** `GET /health`'s queue part: what waits, what runs, and each route's last result. */
  health(): Record<string, unknown> {
    const job = (j: DeployJob): Record<string, unknown> => ({ requestId: j.row.requestId, route: j.route.name, remote: j.remote, commit: j.commit, deployId: j.row.deployId });
    return {
      queueDepth: this.queue.depth,
      running: this.queue.active.map(job),
      waiting: this.queue.pending.map(job),
      routes: this.options.settings.routes.map((route) => {
        const last = this.lastByRoute.get(route.name);
        return {
          name: route.name, kind: route.kind, pattern: route.pattern, remote: route.remote, environment: route.environment ?? null, confirm: route.confirm,
          last: last ? { outcome: last.outcome, commit: last.commit, requestId: last.requestId, deliveryId: last.deliveryId, deployId: last.deployId, at: last.finishedAt, error: last.error } : null,
        };
      }),
    };
  }

  /**
   * Cancels the deploys that have not started and waits up to `timeoutMs` for the running ones;
   * those still running then are recorded as failed. Resolves with how many of each.
   */
  async stop(timeoutMs: number): Promise<{ cancelled: number; unfinished: number }> {
    const left = this.queue.stop();
    for (const job of left) await this.finishJob(job, 'cancelled', { detail: 'the server stopped before this deploy started; push again or run `dbfast deploy`' });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.queue.idle().then(() => 'idle' as const), timedOut]);
    clearTimeout(timer);
    if (result === 'idle') return { cancelled: left.length, unfinished: 0 };
    const unfinished = this.queue.active;
    for (const job of unfinished) {
      await this.finishJob(job, 'failed', { deployId: job.row.deployId, error: `the server stopped after waiting ${Math.round(timeoutMs / 1000)} s (shutdown_timeout_seconds) and interrupted this deploy; \`dbfast history --remote ${job.remote}\` shows how far it got` });
    }
    return { cancelled: left.length, unfinished: unfinished.length };
  }
}
