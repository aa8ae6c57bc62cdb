import type { Command } from 'commander';
import type { Logger } from '../../index.js';
import { action } from '../action.js';
import { wholeNumber } from '../options.js';
import { stopGracefullyOnSignal } from '../signals.js';

export function registerWebhookCommands(program: Command): void {
  const webhook = program.command('webhook').description('deploys triggered by git pushes (GitHub, GitLab, Gitea, Bitbucket)');
  webhook
    .command('serve')
    .description('listen for push webhooks and deploy each pushed commit through its route (until SIGTERM)')
    .option('--listen <host:port>', 'address to listen on (default [webhooks] listen, else 127.0.0.1:8730)')
    .action(
      action<{ listen?: string }>(async (ctx, _args, options) => {
        const config = await ctx.config();
        const [{ serveWebhooks }, render] = await Promise.all([import('../../index.js'), import('../render/webhook.js')]);
        const json = ctx.out.json;
        // One JSON object per line with --json (a stream of events, not one result).
        const print = (value: Record<string, unknown>, text: string): void => ctx.out.stdout(json ? JSON.stringify(value) : text);
        // A server's warnings matter with --json too: there they are JSON lines on stderr.
        const base = ctx.out.logger();
        const logger: Logger = json ? { ...base, warn: (message) => ctx.out.stderr(JSON.stringify({ type: 'warning', message })) } : base;
        const server = await serveWebhooks({
          config,
          listen: options.listen,
          logger,
          onDelivery: (line) => print({ type: 'delivery', ...line }, render.deliveryLine(line)),
        });
        const routes = server.settings.routes.map((route) => `${route.kind} ${route.pattern} -> ${route.remote}`);
        if (json) print({ type: 'listening', url: server.url, repository: server.repository, routes: server.settings.routes.map((r) => r.name) }, '');
        else ctx.out.message(`listening on ${server.url} (repository ${server.repository}; ${routes.join(', ')})`);
        const signal = await new Promise<NodeJS.Signals>((resolve) => stopGracefullyOnSignal(resolve));
        ctx.out.message(`${signal}: not taking deliveries any more; waiting for running deploys (up to ${Math.round(server.settings.shutdownTimeoutMs / 1000)} s)`);
        const result = await server.stop();
        if (json) print({ type: 'stopped', signal, ...result }, '');
        if (result.unfinished > 0) {
          const { runCleanups } = await import('../../index.js');
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
    .option('--limit <n>', 'how many', wholeNumber(1), 50)
    .action(
      action<{ limit: number }>(async (ctx, _args, options) => {
        const config = await ctx.config();
        const [{ webhookEvents }, render] = await Promise.all([import('../../index.js'), import('../render/webhook.js')]);
        const events = await webhookEvents({ config, limit: options.limit });
        ctx.out.result({ events }, (style) => render.renderWebhookEvents(style, events));
      }),
    );
}
