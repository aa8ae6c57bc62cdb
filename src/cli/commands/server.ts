import type { Command } from 'commander';
import { action } from '../action.js';
import { askOnTerminal } from '../confirm.js';
import { confirmOption, name, wholeNumber, wholeNumberIn, yesOption } from '../options.js';
import { bytes } from '../render/format.js';

/** `dbfast server start|stop|status|url|logs|destroy`: the managed local PostgreSQL. */

export function registerServerCommands(program: Command): void {
  const server = program.command('server').description('the local PostgreSQL dbfast runs itself when none is configured');
  server
    .command('start')
    .description('start the managed server (initdb on first use); commands also start it on first need')
    .option('--durable', "keep PostgreSQL's durable defaults (fsync etc.); remembered")
    .option('--no-durable', 'back to the fast settings (fsync, synchronous_commit, full_page_writes off)')
    .option('--port <port>', 'listen on this port (remembered; refused when taken)', wholeNumberIn(1, 65535))
    .action(
      action<{ durable?: boolean; port?: number }>(async (ctx, _args, options) => {
        const [api, render] = await Promise.all([import('../../index.js'), import('../render/server.js')]);
        // The result says what happened; the library's own "started ..." line would repeat it.
        const result = await api.startServer({ port: options.port, durable: options.durable, logger: { ...ctx.out.logger(), info: () => undefined } });
        ctx.out.result(result, () => render.renderServerStart(result));
      }),
    );
  server
    .command('stop')
    .description('stop the managed server (open sessions are ended); the next command that needs it starts it again')
    .action(
      action(async (ctx) => {
        const [api, render] = await Promise.all([import('../../index.js'), import('../render/server.js')]);
        const result = await api.stopServer({ logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderServerStop(result));
      }),
    );
  server
    .command('status')
    .description('version, binaries, port, socket, data folder, size, uptime, databases dbfast made; starts nothing')
    .action(
      action(async (ctx) => {
        const [api, render] = await Promise.all([import('../../index.js'), import('../render/server.js')]);
        const result = await api.serverStatus();
        ctx.out.result(result, (style) => render.renderServerStatus(style, result));
      }),
    );
  server
    .command('url')
    .description('print a connection URL for psql and application code (starts the server when needed)')
    .option('-d, --database <name>', 'database in the URL (default postgres)', name)
    .option('--tcp', 'the TCP form (127.0.0.1; its password is in the pgpass file `--json` names)')
    .action(
      action<{ database?: string; tcp?: boolean }>(async (ctx, _args, options) => {
        const api = await import('../../index.js');
        const result = await api.serverUrl({ database: options.database, logger: ctx.out.logger() });
        ctx.out.result(result, () => (options.tcp === true ? result.tcpUrl : result.url));
      }),
    );
  server
    .command('logs')
    .description("print the end of the managed server's log")
    .option('-n, --lines <n>', 'how many lines (default 50)', wholeNumber(1))
    .action(
      action<{ lines?: number }>(async (ctx, _args, options) => {
        const api = await import('../../index.js');
        const result = await api.serverLogs({ lines: options.lines });
        if (!result.logFile) ctx.out.message('no managed server yet, so no log');
        ctx.out.result(result, () => result.lines.join('\n'));
      }),
    );
  server
    .command('destroy')
    .description('stop the managed server and delete it with every database on it')
    .addOption(confirmOption('yes, delete it, without a prompt'))
    .addOption(yesOption())
    .action(
      action<{ confirm?: boolean; yes?: boolean }>(async (ctx, _args, options) => {
        const [api, render] = await Promise.all([import('../../index.js'), import('../render/server.js')]);
        let confirmed = options.confirm === true || options.yes === true;
        if (!confirmed) {
          const status = await api.serverStatus();
          const size = status.sizeBytes === null ? '' : ` (${bytes(status.sizeBytes)})`;
          confirmed = status.exists && (await askOnTerminal(ctx, `This deletes the managed server in ${status.root}${size} and every database on it.`));
        }
        const result = await api.destroyServer({ confirmed, logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderServerDestroy(result));
      }),
    );
}
