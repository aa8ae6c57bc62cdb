import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import type { DeployTrigger } from '../history/records.js';
import { registerCleanup } from '../cleanup.js';
import { newDeployId } from '../history/id.js';
import { DbfastError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ServerRepository } from './git.js';
import type { WebhookMetrics } from './metrics.js';
import { detectProvider, InvalidPayload, providerNamed, PROVIDERS, type ParsedEvent, type WebhookProvider } from './providers.js';
import { DeployQueue, type QueueJob } from './queue.js';
import type { DeployRunner } from './runner.js';
import { candidateSecretEnvs, routesFor, secretEnvFor, type WebhookRoute, type WebhookSettings } from './settings.js';
import type { NewWebhookEvent, WebhookEvent, WebhookEventStore, WebhookOutcome } from './store.js';

/** The one line the server logs per delivery (per route's deploy of it), when its outcome is final. Never a secret. */
export interface DeliveryLogLine {
  at: string;
  requestId: string | null;
  provider: string;
  event: string | null;
  deliveryId: string | null;
  ref: string | null;
  commit: string | null;
  sender: string | null;
  route: string | null;
  remote: string | null;
  outcome: WebhookOutcome | 'unavailable';
  status: number | null;
  deployId: string | null;
  durationMs: number | null;
  detail: string | null;
  error: string | null;
}

/** An HTTP answer: status and a JSON body. */
export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
}

interface DeployJob extends QueueJob {
  row: WebhookEvent;
  route: WebhookRoute;
  commit: string;
  trigger: DeployTrigger;
}

export interface WebhookServiceOptions {
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
  onDelivery: (line: DeliveryLogLine) => void;
  env: NodeJS.ProcessEnv;
}

function newRequestId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(4).toString('hex')}`;
}

function parseBody(headers: IncomingHttpHeaders, body: Buffer): unknown {
  const text = body.toString('utf8');
  // GitHub and Gitea can also send the payload form-encoded, as `payload=<json>`.
  if ((headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return JSON.parse(new URLSearchParams(text).get('payload') ?? '');
  }
  return JSON.parse(text);
}

/**
 * What `dbfast webhook serve` does with a delivery, apart from HTTP: verify, parse, dedupe,
 * record, route and queue; and each queued deploy: fetch, worktree, deploy, record.
 */
export class WebhookService {
  private readonly queue: DeployQueue<DeployJob>;
  private readonly lastByRoute = new Map<string, WebhookEvent>();
  private stopping = false;
  /** Jobs whose outcome is recorded as final (an interrupt's clean-up must not overwrite it). */
  private readonly finished = new WeakSet<DeployJob>();

  constructor(private readonly options: WebhookServiceOptions) {
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

  private log(row: Partial<DeliveryLogLine> & Pick<DeliveryLogLine, 'provider' | 'outcome'>): void {
    this.options.onDelivery({
      at: new Date().toISOString(), requestId: null, event: null, deliveryId: null, ref: null, commit: null, sender: null, route: null,
      remote: null, status: null, deployId: null, durationMs: null, detail: null, error: null, ...row,
    });
  }

  private logEvent(event: WebhookEvent, status: number | null): void {
    const { id: _id, receivedAt: _r, signatureOk: _s, repository: _repo, startedAt: _st, finishedAt: _f, ...rest } = event;
    this.log({ ...rest, status });
  }

  /**
   * A delivery answered before its body was read whole (413 too large, 408 too slow): recorded
   * like every other, so `webhook events` shows why a provider's delivery failed. Never throws:
   * a failure to record is logged.
   */
  async refuseUnread(pathProvider: string | undefined, headers: IncomingHttpHeaders, outcome: 'too_large' | 'timed_out', status: number, detail: string): Promise<string> {
    const provider = pathProvider ? providerNamed(pathProvider) : detectProvider(headers);
    const row: NewWebhookEvent = {
      requestId: newRequestId(), provider: provider?.name ?? pathProvider ?? 'unknown', event: provider?.event(headers) ?? null,
      deliveryId: provider?.deliveryId(headers) ?? null, repository: null, ref: null, commit: null, sender: null,
      signatureOk: false, route: null, remote: null, outcome, detail,
    };
    this.options.metrics.deliveries.inc({ provider: row.provider, outcome });
    try {
      const recorded = await this.options.store.record([row]);
      this.logEvent(recorded.rows[0] as WebhookEvent, status);
    } catch (error) {
      this.options.logger.warn(`could not record a ${status} answer: ${errorMessage(error)}`);
      this.log({ ...row, status });
    }
    return row.requestId;
  }

  /** Handles one POST: `pathProvider` is the provider named by `/webhook/<name>`, if any. */
  async receive(pathProvider: string | undefined, headers: IncomingHttpHeaders, body: Buffer): Promise<WebhookAnswer> {
    const { settings, store, metrics } = this.options;
    if (this.stopping) {
      this.log({ provider: pathProvider ?? 'unknown', outcome: 'unavailable', status: 503, detail: 'the server is stopping' });
      return { status: 503, body: { error: 'the server is stopping; deliver again later' } };
    }
    const provider: WebhookProvider | undefined = pathProvider ? providerNamed(pathProvider) : detectProvider(headers);
    const requestId = newRequestId();
    const base: NewWebhookEvent = {
      requestId, provider: provider?.name ?? 'unknown', event: provider?.event(headers) ?? null,
      deliveryId: provider?.deliveryId(headers) ?? null, repository: null, ref: null, commit: null, sender: null,
      signatureOk: false, route: null, remote: null, outcome: 'rejected', detail: null,
    };
    const finish = async (rows: NewWebhookEvent[], status: number, answer: Record<string, unknown>, dedupe = false): Promise<WebhookAnswer> => {
      const recorded = await store.record(rows, dedupe && base.deliveryId ? { provider: base.provider, deliveryId: base.deliveryId } : undefined);
      const first = recorded.rows[0] as WebhookEvent;
      metrics.deliveries.inc({ provider: base.provider, outcome: first.outcome });
      if (recorded.duplicateOf) {
        this.logEvent(first, 200);
        return { status: 200, body: { requestId, outcome: 'duplicate', duplicateOf: recorded.duplicateOf.requestId, detail: first.detail } };
      }
      for (const row of recorded.rows) if (row.outcome !== 'queued') this.logEvent(row, status);
      this.enqueue(recorded.rows);
      return { status, body: { requestId, ...answer } };
    };

    if (!provider) {
      const detail = pathProvider ? `unknown provider "${pathProvider}" in the path` : 'no provider headers (X-GitHub-Event, X-Gitlab-Event, X-Gitea-Event, X-Event-Key)';
      return finish([{ ...base, detail }], 400, { outcome: 'rejected', error: detail });
    }
    // Signatures first, over the raw bytes; every candidate secret is tried (no early exit).
    const signedWith = new Set<string>();
    for (const name of candidateSecretEnvs(settings, provider.name)) {
      const secret = settings.secrets.get(name);
      if (secret !== undefined && provider.verify(headers, body, secret)) signedWith.add(name);
    }
    if (signedWith.size === 0) {
      const given = headers[provider.signatureHeader.toLowerCase()] !== undefined;
      const detail = `${provider.signatureHeader} ${given ? 'does not match any configured secret' : 'is missing'}`;
      return finish([{ ...base, detail }], 401, { outcome: 'rejected', error: detail });
    }
    base.signatureOk = true;
    base.deliveryId ??= `sha256:${createHash('sha256').update(body).digest('hex').slice(0, 32)}`;
    let parsed: ParsedEvent;
    try {
      parsed = provider.parse(base.event, parseBody(headers, body));
    } catch (error) {
      const detail = error instanceof InvalidPayload ? `the payload is refused: ${error.message}` : `the body is not JSON: ${errorMessage(error)}`;
      return finish([{ ...base, outcome: 'invalid', detail }], 400, { outcome: 'invalid', error: detail });
    }
    if (parsed.kind === 'ping') return finish([{ ...base, outcome: 'ping', detail: 'answered' }], 200, { outcome: 'ping', pong: true });
    base.repository = parsed.repository;
    base.sender = parsed.sender;
    if (parsed.kind === 'ignored') return finish([{ ...base, outcome: 'ignored', detail: parsed.reason }], 200, { outcome: 'ignored', detail: parsed.reason });

    const rows: NewWebhookEvent[] = [];
    const skipped: string[] = [];
    for (const update of parsed.updates) {
      if (update.commit === null) {
        skipped.push(`${update.ref} was deleted`);
        continue;
      }
      const routes = routesFor(settings, provider.name, update.kind, update.name, signedWith);
      if (routes.length === 0) skipped.push(`no route for ${update.kind} "${update.name}"`);
      for (const route of routes) rows.push({ ...base, ref: update.ref, commit: update.commit, route: route.name, remote: route.remote, outcome: 'queued' });
    }
    if (rows.length === 0) {
      const first = parsed.updates[0];
      const detail = skipped.join('; ');
      return finish([{ ...base, ref: first?.ref ?? null, commit: first?.commit ?? null, outcome: 'ignored', detail }], 200, { outcome: 'ignored', detail });
    }
    return finish(rows, 202, { outcome: 'queued', deploys: rows.map((r) => ({ route: r.route, remote: r.remote, ref: r.ref, commit: r.commit })) }, true);
  }

  private enqueue(rows: WebhookEvent[]): void {
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
    this.logEvent(row, null);
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
      await this.finishJob(job, 'failed', { deployId, error: errorMessage(error) }, started);
    }
  }

  /** `GET /health`: up or stopping, the queue, and each route's last result. */
  health(): Record<string, unknown> {
    const job = (j: DeployJob): Record<string, unknown> => ({ requestId: j.row.requestId, route: j.route.name, remote: j.remote, commit: j.commit, deployId: j.row.deployId });
    return {
      ok: !this.stopping,
      status: this.stopping ? 'stopping' : 'ok',
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

  /** `GET /providers`: what each provider must send; whether a secret is configured, never the secret. */
  providers(): Record<string, unknown> {
    const { settings } = this.options;
    return {
      providers: PROVIDERS.map((provider) => ({
        name: provider.name,
        path: `/webhook/${provider.name}`,
        signatureHeader: provider.signatureHeader,
        scheme: provider.scheme,
        secretConfigured: candidateSecretEnvs(settings, provider.name).length > 0,
        secretEnv: secretEnvFor(settings, provider.name) ?? null,
        routes: settings.routes.filter((route) => !route.provider || route.provider === provider.name).map((route) => route.name),
      })),
    };
  }

  /**
   * Stops taking deliveries, cancels the deploys that have not started, and waits up to
   * `timeoutMs` for the running ones. Resolves with the deploys still running after that.
   */
  async stop(timeoutMs: number): Promise<{ cancelled: number; unfinished: number }> {
    this.stopping = true;
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
