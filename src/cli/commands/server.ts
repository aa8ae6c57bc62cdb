import type { Command } from 'commander';
import type { DestroyServerResult, ServerStatus, StartServerResult, StopServerResult } from '../../index.js';
import { DbfastError } from '../../errors.js';
import { action } from '../action.js';
import { confirmOnTerminal } from '../confirm.js';
import { formatBytes } from '../output.js';

/** `dbfast server start|stop|status|url|logs|destroy`: the managed local PostgreSQL. */

function whole(name: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DbfastError('USAGE', `${name} takes a whole number from ${min} to ${max}, not "${String(value)}"`, { hint: 'Run dbfast server --help for usage.' });
  }
  return n;
}

function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return seconds < 172800 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86400)} days`;
}

function settingsLine(durable: boolean): string {
  return durable
    ? "durable: PostgreSQL's defaults (fsync, synchronous_commit, full_page_writes on)"
    : 'fast: fsync, synchronous_commit, full_page_writes off (`dbfast server start --durable` keeps the defaults)';
}

export function renderStart(result: StartServerResult): string {
  const { server } = result;
  const what = `the managed PostgreSQL ${server.version} server`;
  const head = result.started
    ? `${result.initialized ? 'created and started' : 'started'} ${what} in ${(result.durationMs / 1000).toFixed(1)} s`
    : `${what} is already running`;
  return [
    `${head} on port ${server.port}`,
    `  binaries  ${server.origin}: ${server.binDir}`,
    `  data      ${server.dataDir}`,
    `  socket    ${server.socketDir}`,
    `  log       ${server.logFile}`,
    `  settings  ${settingsLine(server.durable)}`,
    'connect with: psql "$(dbfast server url)"',
  ].join('\n');
}

export function renderStatus(status: ServerStatus): string {
  const others = status.others.map((other) => `  also here: PostgreSQL ${other.major} on port ${other.port} (${other.running ? 'running' : 'stopped'}), ${other.dataDir}`);
  if (!status.server) {
    return [`no managed server in ${status.root} yet: dbfast starts one on first need (or run \`dbfast server start\`)`, ...others].join('\n');
  }
  const { server } = status;
  const lines = [
    `managed PostgreSQL server: ${status.running ? 'running' : 'stopped'}${status.running ? '' : ' (dbfast starts it on first need)'}`,
    `  version    ${server.version} (${server.origin} binaries: ${server.binDir}; ${server.foundBy})`,
    `  port       ${server.port} on 127.0.0.1 (scram; password in ${server.pgpassFile})`,
    `  socket     ${server.socketDir} (no password; folder mode 0700)`,
    `  data       ${server.dataDir} (${formatBytes(status.sizeBytes ?? 0)}), run as OS user ${server.osUser}`,
    `  log        ${server.logFile}`,
    `  settings   ${settingsLine(server.durable)}`,
  ];
  if (status.running && status.uptimeSeconds !== null) lines.push(`  up         ${duration(status.uptimeSeconds)} (pid ${status.pid}, since ${status.startedAt})`);
  if (status.pgDump) {
    lines.push(status.pgDump.canDump
      ? `  pg_dump    ${status.pgDump.version} (${status.pgDump.path}) can dump this server's templates for a deploy`
      : `  pg_dump    ${status.pgDump.problem}`);
  }
  if (status.running) {
    lines.push(`  databases  ${status.databases.length === 0 ? 'none made by dbfast yet' : `${status.databases.length} made by dbfast:`}`);
    const width = Math.max(0, ...status.databases.map((db) => db.name.length));
    for (const db of status.databases) lines.push(`    ${db.name.padEnd(width)}  ${db.kind.padEnd(8)}  ${formatBytes(db.sizeBytes)}`);
    lines.push(`  url        ${server.url}`);
  }
  return [...lines, ...others].join('\n');
}

function renderStop(result: StopServerResult): string {
  if (result.stopped.length === 0) return 'the managed server was not running';
  return result.stopped.map((server) => `stopped the managed PostgreSQL ${server.major} server (port ${server.port})`).join('\n');
}

function renderDestroy(result: DestroyServerResult): string {
  if (result.removed.length === 0) return `nothing to destroy in ${result.root}`;
  return [`destroyed the managed server in ${result.root} (${formatBytes(result.freedBytes)} freed)`, ...result.removed.map((file) => `  removed ${file}`)].join('\n');
}

export function registerServerCommands(program: Command): void {
  const server = program
    .command('server')
    .description('the local PostgreSQL dbfast runs itself when none is configured');
  server
    .command('start')
    .description('start the managed server (initdb on first use); commands also start it on first need')
    .option('--durable', "keep PostgreSQL's durable defaults (fsync etc.); remembered")
    .option('--no-durable', 'back to the fast settings (fsync, synchronous_commit, full_page_writes off)')
    .option('--port <port>', 'listen on this port (remembered; refused when taken)')
    .action(
      action(async (ctx, _args, options) => {
        const port = whole('--port', options.port, 1, 65535);
        const durable = typeof options.durable === 'boolean' ? options.durable : undefined;
        const api = await import('../../index.js');
        // The result says what happened; the library's own "started ..." line would repeat it.
        const result = await api.startServer({ port, durable, logger: { ...ctx.out.logger(), info: () => undefined } });
        ctx.out.result(result, () => renderStart(result));
      }),
    );
  server
    .command('stop')
    .description('stop the managed server (open sessions are ended); the next command that needs it starts it again')
    .action(
      action(async (ctx) => {
        const api = await import('../../index.js');
        const result = await api.stopServer({ logger: ctx.out.logger() });
        ctx.out.result(result, () => renderStop(result));
      }),
    );
  server
    .command('status')
    .description('version, binaries, port, socket, data folder, size, uptime, databases dbfast made; starts nothing')
    .action(
      action(async (ctx) => {
        const api = await import('../../index.js');
        const result = await api.serverStatus();
        ctx.out.result(result, () => renderStatus(result));
      }),
    );
  server
    .command('url')
    .description('print a connection URL for psql and application code (starts the server when needed)')
    .option('-d, --database <name>', 'database in the URL (default postgres)')
    .option('--tcp', 'the TCP form (127.0.0.1; its password is in the pgpass file `--json` names)')
    .action(
      action(async (ctx, _args, options) => {
        const api = await import('../../index.js');
        const result = await api.serverUrl({ database: typeof options.database === 'string' ? options.database : undefined, logger: ctx.out.logger() });
        ctx.out.result(result, () => (options.tcp === true ? result.tcpUrl : result.url));
      }),
    );
  server
    .command('logs')
    .description("print the end of the managed server's log")
    .option('-n, --lines <n>', 'how many lines (default 50)')
    .action(
      action(async (ctx, _args, options) => {
        const lines = whole('--lines', options.lines, 1, 1_000_000);
        const api = await import('../../index.js');
        const result = await api.serverLogs({ lines });
        if (!result.logFile) ctx.out.message('no managed server yet, so no log');
        ctx.out.result(result, () => result.lines.join('\n'));
      }),
    );
  server
    .command('destroy')
    .description('stop the managed server and delete it with every database on it')
    .option('--confirm', 'yes, delete it')
    .action(
      action(async (ctx, _args, options) => {
        const api = await import('../../index.js');
        let confirmed = options.confirm === true;
        if (!confirmed && !ctx.out.json) {
          const status = await api.serverStatus();
          confirmed = status.exists && (await confirmOnTerminal(`This deletes the managed server in ${status.root} and every database on it.`, 'destroy'));
        }
        const result = await api.destroyServer({ confirmed, logger: ctx.out.logger() });
        ctx.out.result(result, () => renderDestroy(result));
      }),
    );
}
