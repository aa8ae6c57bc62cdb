import type { Command } from 'commander';
import { DbfastError } from '../../errors.js';
import type { DeliveryLogLine, Logger, WebhookEvent } from '../../index.js';
import { action } from '../action.js';
import { stopGracefullyOnSignal } from '../signals.js';
import { table } from '../table.js';

function firstLine(text: string | null): string {
  return (text ?? '').split('\n').map((line) => line.trim()).find(Boolean) ?? '';
}

/** The one line `webhook serve` prints per delivery (text mode). */
export function deliveryLine(line: DeliveryLogLine): string {
  const what = [line.provider, line.event ?? '', line.ref ?? '', line.commit ? line.commit.slice(0, 12) : '', line.sender ? `by ${line.sender}` : ''].filter(Boolean).join(' ');
  const where = line.remote ? ` -> ${line.remote}` : '';
  const status = line.status === null ? '' : ` ${line.status}`;
  const took = line.durationMs === null ? '' : `, ${(line.durationMs / 1000).toFixed(1)} s`;
  const deploy = line.deployId ? ` (deploy ${line.deployId}${took})` : '';
  const why = firstLine(line.error) || firstLine(line.detail);
  return `${line.at} ${line.requestId ?? '-'} ${what}${where}:${status} ${line.outcome}${deploy}${why ? `: ${why}` : ''}`;
}

function parseLimit(value: unknown): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new DbfastError('USAGE', `--limit takes a positive whole number, not "${String(value)}"`, { hint: 'e.g. --limit 20' });
  return limit;
}

function eventRow(event: WebhookEvent): string[] {
  return [
    event.receivedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    event.requestId,
    event.provider,
    event.event ?? '',
    event.ref ?? '',
    event.commit ? event.commit.slice(0, 12) : '',
    event.sender ?? '',
    event.signatureOk ? 'ok' : 'BAD',
    event.route ? `${event.route}` : '',
    event.outcome,
    event.deployId ?? '',
    firstLine(event.error) || firstLine(event.detail),
  ];
}

export function registerWebhookCommands(program: Command): void {
  const webhook = program.command('webhook').description('deploys triggered by git pushes (GitHub, GitLab, Gitea, Bitbucket)');
  webhook
    .command('serve')
    .description('listen for push webhooks and deploy each pushed commit through its route (until SIGTERM)')
    .option('--listen <host:port>', 'address to listen on (default [webhooks] listen, else 127.0.0.1:8730)')
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { serveWebhooks } = await import('../../index.js');
        const json = ctx.out.json;
        const print = (value: Record<string, unknown>, text: string): void => {
          process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
        };
        // A server's warnings matter with --json too: there they are JSON lines on stderr.
        const base = ctx.out.logger();
        const logger: Logger = json ? { ...base, warn: (message) => process.stderr.write(`${JSON.stringify({ type: 'warning', message })}\n`) } : base;
        const server = await serveWebhooks({
          config,
          listen: options.listen as string | undefined,
          logger,
          onDelivery: (line) => print({ type: 'delivery', ...line }, deliveryLine(line)),
        });
        const routes = server.settings.routes.map((route) => `${route.kind} ${route.pattern} -> ${route.remote}`);
        if (json) print({ type: 'listening', url: server.url, repository: server.repository, routes: server.settings.routes.map((r) => r.name) }, '');
        else ctx.out.message(`listening on ${server.url} (repository ${server.repository}; ${routes.join(', ')})`);
        const signal = await new Promise<NodeJS.Signals>((resolve) => stopGracefullyOnSignal(resolve));
        ctx.out.message(`${signal}: not taking deliveries any more; waiting for running deploys (up to ${Math.round(server.settings.shutdownTimeoutMs / 1000)} s)`);
        const result = await server.stop();
        if (json) print({ type: 'stopped', signal, ...result }, '');
        if (result.unfinished > 0) {
          const { runCleanups } = await import('../../cleanup.js');
          await runCleanups();
          ctx.out.warn(`${result.unfinished} deploy(s) were still running after shutdown_timeout_seconds and were interrupted (recorded as failed)`);
          // The abandoned deploys still hold connections and timers: leave without waiting for them.
          process.exit(1);
        }
        ctx.out.message(`stopped${result.cancelled > 0 ? ` (${result.cancelled} waiting deploy(s) cancelled)` : ''}`);
        return 0;
      }),
    );
  webhook
    .command('events')
    .description('webhook deliveries recorded on the local server, newest first')
    .option('--limit <n>', 'how many', '50')
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { webhookEvents } = await import('../../index.js');
        const events = await webhookEvents({ config, limit: parseLimit(options.limit) });
        ctx.out.result({ events }, () => {
          if (events.length === 0) return 'no webhook deliveries recorded';
          return table(['RECEIVED', 'REQUEST', 'PROVIDER', 'EVENT', 'REF', 'COMMIT', 'SENDER', 'SIGNATURE', 'ROUTE', 'OUTCOME', 'DEPLOY', 'DETAIL'], events.map(eventRow));
        });
      }),
    );
}
