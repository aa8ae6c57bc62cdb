import type { DestroyServerResult, ServerStatus, StartServerResult, StopServerResult } from '../../index.js';
import { bytes, type Style } from './format.js';

/** Human renderings of `dbfast server start|stop|status|destroy` (the managed local PostgreSQL). */

/** An uptime: `90 s`, `12 min`, `5 h`, `3 days`. */
function uptime(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return seconds < 172800 ? `${Math.round(seconds / 3600)} h` : `${Math.round(seconds / 86400)} days`;
}

function settingsLine(durable: boolean): string {
  return durable
    ? "durable: PostgreSQL's defaults (fsync, synchronous_commit, full_page_writes on)"
    : 'fast: fsync, synchronous_commit, full_page_writes off (`dbfast server start --durable` keeps the defaults)';
}

export function renderServerStart(result: StartServerResult): string {
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

export function renderServerStatus(style: Style, status: ServerStatus): string {
  const others = status.others.map((other) => `  also here: PostgreSQL ${other.major} on port ${other.port} (${other.running ? 'running' : 'stopped'}), ${other.dataDir}`);
  if (!status.server) {
    return [`no managed server in ${status.root} yet: dbfast starts one on first need (or run \`dbfast server start\`)`, ...others].join('\n');
  }
  const { server } = status;
  const lines = [
    `managed PostgreSQL server: ${status.running ? style.good('running') : style.warn('stopped')}${status.running ? '' : ' (dbfast starts it on first need)'}`,
    `  version    ${server.version} (${server.origin} binaries: ${server.binDir}; ${server.foundBy})`,
    `  port       ${server.port} on 127.0.0.1 (scram; password in ${server.pgpassFile})`,
    `  socket     ${server.socketDir} (no password; folder mode 0700)`,
    `  data       ${server.dataDir} (${bytes(status.sizeBytes ?? 0)}), run as OS user ${server.osUser}`,
    `  log        ${server.logFile}`,
    `  settings   ${settingsLine(server.durable)}`,
  ];
  if (status.running && status.uptimeSeconds !== null) lines.push(`  up         ${uptime(status.uptimeSeconds)} (pid ${status.pid}, since ${status.startedAt})`);
  if (status.pgDump) {
    lines.push(status.pgDump.canDump
      ? `  pg_dump    ${status.pgDump.version} (${status.pgDump.path}) can dump this server's templates for a deploy`
      : `  pg_dump    ${status.pgDump.problem}`);
  }
  if (status.running) {
    lines.push(`  databases  ${status.databases.length === 0 ? 'none made by dbfast yet' : `${status.databases.length} made by dbfast:`}`);
    const width = Math.max(0, ...status.databases.map((db) => db.name.length));
    for (const db of status.databases) lines.push(`    ${db.name.padEnd(width)}  ${db.kind.padEnd(8)}  ${bytes(db.sizeBytes)}`);
    lines.push(`  url        ${server.url}`);
  }
  return [...lines, ...others].join('\n');
}

export function renderServerStop(result: StopServerResult): string {
  if (result.stopped.length === 0) return 'the managed server was not running';
  return result.stopped.map((server) => `stopped the managed PostgreSQL ${server.major} server (port ${server.port})`).join('\n');
}

export function renderServerDestroy(result: DestroyServerResult): string {
  if (result.removed.length === 0) return `nothing to destroy in ${result.root}`;
  return [`destroyed the managed server in ${result.root} (${bytes(result.freedBytes)} freed)`, ...result.removed.map((file) => `  removed ${file}`)].join('\n');
}
