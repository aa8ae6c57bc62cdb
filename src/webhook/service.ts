import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { errorMessage } from '../errors.js';
import { DeployJobs, type DeployJobsOptions } from './deploy-jobs.js';
import { detectProvider, InvalidPayload, providerNamed, PROVIDERS, type ParsedEvent, type WebhookProvider } from './providers.js';
import { candidateSecretEnvs, routesFor, secretEnvFor } from './settings.js';
import type { NewWebhookEvent, WebhookEvent, WebhookOutcome } from './store.js';

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

export interface WebhookServiceOptions extends Omit<DeployJobsOptions, 'onFinished'> {
  onDelivery: (line: DeliveryLogLine) => void;
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
 * record, route and queue; the queued deploys themselves are deploy-jobs.ts's.
 */
export class WebhookService {
  private readonly jobs: DeployJobs;
  private stopping = false;

  constructor(private readonly options: WebhookServiceOptions) {
    this.jobs = new DeployJobs({ ...options, onFinished: (row) => this.logEvent(row, null) });
  }

  /** Restores each route's last result from the records (for /health after a restart). */
  async loadLastResults(): Promise<void> {
    await this.jobs.loadLastResults();
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
      this.jobs.enqueue(recorded.rows);
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

  /** `GET /health`: up or stopping, the queue, and each route's last result. */
  health(): Record<string, unknown> {
    return { ok: !this.stopping, status: this.stopping ? 'stopping' : 'ok', ...this.jobs.health() };
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
    return this.jobs.stop(timeoutMs);
  }
}
