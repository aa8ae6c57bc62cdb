import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localTarget } from '../server/managed.js';
import type { DbfastConfig } from '../config/types.js';
import { DbfastError, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { maskRepository, ServerRepository } from './git.js';
import { WebhookMetrics } from './metrics.js';
import { defaultDeployRunner, type DeployRunner } from './runner.js';
import { WebhookService, type DeliveryLogLine } from './service.js';
import { resolveWebhookSettings, type WebhookSettings } from './settings.js';
import { WebhookEventStore } from './store.js';

export interface ServeWebhooksOptions {
  /** The serving dbfast.toml: `[webhooks]`, `[database]` (where deliveries are recorded) and the remotes. */
  config: DbfastConfig;
  /** `--listen HOST:PORT` (port 0: any free port). */
  listen?: string | undefined;
  /** The deploy behind each push; default: the real deploy of the commit's dbfast.toml. */
  runner?: DeployRunner | undefined;
  logger?: Logger | undefined;
  /** One call per delivery with its final outcome (the CLI prints a line). */
  onDelivery?: ((line: DeliveryLogLine) => void) | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** A running server. */
export interface WebhookServer {
  /** `http://HOST:PORT`. */
  url: string;
  host: string;
  port: number;
  /** The repository deploys are fetched from, credentials masked. */
  repository: string;
  settings: WebhookSettings;
  /**
   * Stops accepting, cancels waiting deploys, lets running ones finish (up to
   * `shutdown_timeout_seconds`). `unfinished` > 0: some were still running when time was up.
   */
  stop: () => Promise<{ cancelled: number; unfinished: number }>;
}

class BodyTooLarge extends Error {}

/** Sockets whose request Node timed out (request_timeout_seconds): their 408 is recorded by the request's handler. */
const timedOut = new WeakSet<object>();

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    // A connection closed mid-body (a timeout, the client gone) ends the wait too.
    req.on('close', () => {
      if (!req.complete) reject(new Error('the connection closed before the body was read'));
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', ...headers });
  res.end(text);
}

/**
 * Starts `dbfast webhook serve`: checks `[webhooks]` (refusing to start on any problem, e.g. a
 * production route without `confirm = true`), prepares the delivery table and the server's
 * clone, then listens. `POST /webhook` (or `/webhook/<provider>`), `GET /health`,
 * `GET /providers`, `GET /metrics`.
 */
export async function serveWebhooks(options: ServeWebhooksOptions): Promise<WebhookServer> {
  const { config } = options;
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const settings = resolveWebhookSettings(config, env, { listen: options.listen });
  const store = new WebhookEventStore(() => localTarget(config, env, logger));
  await store.prepare();
  const repository = new ServerRepository(settings.repository, settings.workDir);
  await repository.prepare();
  const metrics = new WebhookMetrics();
  const service = new WebhookService({
    settings,
    backupDir: config.backup.dir,
    remoteEnvironments: Object.fromEntries(Object.values(config.remotes).map((remote) => [remote.name, remote.environment])),
    store,
    repository,
    metrics,
    runner: options.runner ?? defaultDeployRunner,
    logger,
    onDelivery: options.onDelivery ?? (() => undefined),
    env,
  });
  await service.loadLastResults();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const webhook = /^\/webhook(?:\/([a-z]+))?\/?$/.exec(url.pathname);
    if (webhook) {
      if (req.method !== 'POST') return send(res, 405, { error: 'POST a delivery here' }, { allow: 'POST' });
      let body: Buffer;
      try {
        body = await readBody(req, settings.maxBodyBytes);
      } catch (error) {
        if (timedOut.has(req.socket)) {
          // Node answered 408 and closed the connection; the delivery is recorded all the same.
          return void (await service.refuseUnread(webhook[1], req.headers, 'timed_out', 408, `the request was not read whole within ${settings.requestTimeoutMs / 1000} s ([webhooks] request_timeout_seconds)`));
        }
        if (!(error instanceof BodyTooLarge)) throw error;
        const requestId = await service.refuseUnread(webhook[1], req.headers, 'too_large', 413, `body over ${settings.maxBodyBytes} bytes ([webhooks] max_body_bytes)`);
        return send(res, 413, { requestId, outcome: 'too_large', error: `the body is larger than ${settings.maxBodyBytes} bytes ([webhooks] max_body_bytes)` }, { connection: 'close' });
      }
      const answer = await service.receive(webhook[1], req.headers, body);
      return send(res, answer.status, answer.body);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'only GET here' }, { allow: 'GET' });
    if (url.pathname === '/health') {
      const health = service.health();
      return send(res, health.ok ? 200 : 503, health);
    }
    if (url.pathname === '/providers') return send(res, 200, service.providers());
    if (url.pathname === '/metrics') return send(res, 200, await metrics.text(), { 'content-type': metrics.contentType });
    return send(res, 404, { error: `no such endpoint: ${url.pathname}`, endpoints: ['POST /webhook', 'POST /webhook/{github,gitlab,gitea,bitbucket}', 'GET /health', 'GET /providers', 'GET /metrics'] });
  };

  const server: Server = createServer(
    {
      requestTimeout: settings.requestTimeoutMs,
      headersTimeout: Math.min(settings.requestTimeoutMs, 10_000),
      keepAliveTimeout: 5_000,
      // How often Node checks the timeouts above (default 30 s, longer than a short timeout).
      connectionsCheckingInterval: Math.min(1_000, settings.requestTimeoutMs),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) => {
        logger.warn(`request ${req.method ?? ''} ${req.url ?? ''} failed: ${errorMessage(error)}`);
        if (!res.headersSent) send(res, 503, { error: 'the delivery could not be recorded; nothing was done. Deliver again later.' });
        else res.destroy();
      });
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    // What Node does by default (408 for a request not read in time, 400 for a malformed one),
    // and a note so that the request's handler, when one runs, records the 408.
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') timedOut.add(socket);
    if (socket.writable && error.code !== 'ECONNRESET') {
      socket.write(error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    }
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new DbfastError('WEBHOOK_LISTEN_FAILED', `cannot listen on ${settings.host}:${settings.port}: ${error.message}`, {
        hint: error.code === 'EADDRINUSE' ? 'Another process uses that port: stop it, or pass --listen HOST:PORT ([webhooks] listen).' : 'Check [webhooks] listen (or --listen).',
        cause: error,
      })),
    );
    server.listen(settings.port, settings.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped: Promise<{ cancelled: number; unfinished: number }> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    host: address.address,
    port: address.port,
    repository: maskRepository(settings.repository),
    settings,
    stop: () => {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const result = await service.stop(settings.shutdownTimeoutMs);
        server.closeAllConnections();
        await closed;
        return result;
      })();
      return stopped;
    },
  };
}
