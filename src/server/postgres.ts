import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { registerCleanup } from '../cleanup.js';
import { DbfastError } from '../errors.js';
import { giveTo, type RunAs } from './os-user.js';
import { refuseShellUnsafe } from './paths.js';
import { postmasterPidFile, processAlive, readPostmasterPid, runningPostmaster } from './postmaster.js';
import { INCLUDE_LINE, SETTINGS_FILE, settingsFileText } from './settings.js';

/**
 * initdb, start and stop of one PostgreSQL cluster, run as `runAs` when dbfast is root. The
 * managed server (lifecycle.ts) and the test harness's throwaway clusters both start through here.
 */
export interface ClusterSpec {
  binDir: string;
  dataDir: string;
  runAs?: RunAs | undefined;
}

/** The child's environment: no PG* variable of ours may steer initdb or pg_ctl; English messages to parse. */
function toolEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('PG')) env[key] = value;
  return { ...env, LC_ALL: 'C', LANG: 'C' };
}

async function runTool(spec: ClusterSpec, tool: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  // The last line of defence for every caller (the test harness too): no path the shell would act on.
  refuseShellUnsafe(spec.binDir, 'DBFAST_SERVER_BINARIES', 'the server binaries\' folder');
  refuseShellUnsafe(spec.dataDir, 'DBFAST_SERVER_DIR', 'the data directory');
  for (const arg of args) if (arg.startsWith('/')) refuseShellUnsafe(arg, 'DBFAST_SERVER_DIR', 'the path');
  const result = await execa(path.join(spec.binDir, tool), args, {
    reject: false,
    uid: spec.runAs?.uid,
    gid: spec.runAs?.gid,
    env: toolEnv(),
    extendEnv: false,
    stdin: 'ignore',
    all: true,
    timeout: timeoutMs,
    // The server's user may not enter our working directory (/root): run from the filesystem root.
    cwd: '/',
  });
  return { ok: result.exitCode === 0, output: (result.all ?? result.message ?? '').trim() };
}

function diskFull(output: string): boolean {
  return /No space left on device|could not extend file|ENOSPC/i.test(output);
}

function tail(text: string, lines = 12): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** initdb reads the superuser's password from a file beside the data directory named so (0600, removed after). */
export const INITDB_PASSWORD_PREFIX = '.initdb-pw-';

/** How initdb sets the cluster up. */
export interface InitOptions {
  /** Superuser password, used for TCP (scram); never in argv: initdb reads it from a file. */
  password: string;
  authHost: 'scram-sha-256' | 'trust';
  /** Skip initdb's fsync of every file (a disposable server does not need it). */
  noSync: boolean;
}

/**
 * initdb into `spec.dataDir` (which must not exist), superuser `postgres`, UTF8, C locale, trust on
 * the unix socket (its folder is 0700), and the include of dbfast.conf at the end of postgresql.conf.
 */
export async function initCluster(spec: ClusterSpec, options: InitOptions): Promise<void> {
  const parent = path.dirname(spec.dataDir);
  const pwfile = path.join(parent, `${INITDB_PASSWORD_PREFIX}${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${options.password}\n`, { mode: 0o600, flag: 'wx' });
  // The password must not outlive initdb, an interrupted one included.
  const unregister = registerCleanup(() => rm(pwfile, { force: true }));
  try {
    await giveTo(spec.runAs, pwfile);
    const { ok, output } = await runTool(spec, 'initdb', [
      '-D', spec.dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C', `--pwfile=${pwfile}`,
      '--auth-local=trust', `--auth-host=${options.authHost}`, ...(options.noSync ? ['--no-sync'] : []),
    ], 300_000);
    if (!ok) {
      if (diskFull(output)) {
        throw new DbfastError('SERVER_DISK_FULL', `initdb ran out of disk space in ${parent}:\n${tail(output, 4)}`, {
          hint: `Free space on the disk of ${parent} (a new server needs about 40 MB), or set DBFAST_SERVER_DIR to a folder on another disk.`,
          details: { path: parent } });
      }
      throw new DbfastError('SERVER_INIT_FAILED', `initdb of ${spec.dataDir} failed:\n${tail(output)}`, {
        hint: 'The lines above are initdb\'s own; fix what they name, then run the command again.',
        details: { path: spec.dataDir } });
    }
    await appendFile(path.join(spec.dataDir, 'postgresql.conf'), `\n# dbfast's settings (port, sockets, durability): see ${SETTINGS_FILE}\n${INCLUDE_LINE}\n`);
  } finally {
    unregister();
    await rm(pwfile, { force: true });
  }
}

/** Where a start logs and listens, and the settings it writes to dbfast.conf. */
export interface StartOptions {
  logFile: string;
  socketDir: string;
  settings: Readonly<Record<string, string>>;
  timeoutSeconds?: number;
}

/** Creates the socket folder (0700, the server's user's) and clears what a killed server left in it. */
async function prepareSocketDir(spec: ClusterSpec, socketDir: string): Promise<void> {
  await mkdir(socketDir, { recursive: true, mode: 0o700 });
  await chmod(socketDir, 0o700);
  await giveTo(spec.runAs, socketDir);
  for (const name of await readdir(socketDir)) {
    if (name.startsWith('.s.PGSQL.')) await rm(path.join(socketDir, name), { force: true });
  }
}

async function fileSize(file: string): Promise<number> {
  return stat(file).then((info) => info.size).catch(() => 0);
}

/** What was appended to a log since `offset` (its last 16 KiB at most). */
async function readSince(file: string, offset: number): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const from = Math.max(offset, size - 16384);
      const buffer = Buffer.alloc(Math.max(0, size - from));
      await handle.read(buffer, 0, buffer.length, from);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/**
 * Starts the cluster detached (pg_ctl: its own session, output to `logFile`), waiting until it
 * accepts connections. A pid file whose process is gone or is another program is removed first.
 */
export async function startPostgres(spec: ClusterSpec, options: StartOptions): Promise<void> {
  if (runningPostmaster(spec.dataDir)) return;
  const stale = readPostmasterPid(spec.dataDir);
  if (stale) await rm(postmasterPidFile(spec.dataDir), { force: true });
  await prepareSocketDir(spec, options.socketDir);
  const settingsFile = path.join(spec.dataDir, SETTINGS_FILE);
  await writeFile(settingsFile, settingsFileText(options.settings), { mode: 0o600 });
  await giveTo(spec.runAs, settingsFile);
  const logStart = await fileSize(options.logFile);
  const timeout = options.timeoutSeconds ?? 120;
  const { ok, output } = await runTool(spec, 'pg_ctl', ['start', '-D', spec.dataDir, '-l', options.logFile, '-w', '-t', String(timeout), '-s'], (timeout + 10) * 1000);
  if (ok) return;
  const log = await readSince(options.logFile, logStart);
  const said = tail(`${output}\n${log}`);
  const port = options.settings.port;
  // Only a bind that failed because the address is in use means the port is taken (the caller
  // may move to another port); any other reason to create no socket is a failed start.
  if (/Address already in use/i.test(said)) {
    throw new DbfastError('SERVER_PORT_TAKEN', `port ${port} on 127.0.0.1 is taken; the server could not start:\n${said}`, {
      hint: `Stop what listens on port ${port}, or choose another: dbfast server start --port N.`,
      details: { port: Number(port) } });
  }
  if (diskFull(said)) {
    throw new DbfastError('SERVER_DISK_FULL', `the server ran out of disk space in ${spec.dataDir}:\n${said}`, {
      hint: `Free space on the disk of ${spec.dataDir}, then run the command again.`,
      details: { path: spec.dataDir } });
  }
  throw new DbfastError('SERVER_START_FAILED', `PostgreSQL did not start (data ${spec.dataDir}):\n${said}`, {
    hint: `The lines above are from the server's log, ${options.logFile}; fix what they name, then run the command again.`,
    details: { path: spec.dataDir, logFile: options.logFile } });
}

/** pg_ctl's shutdown modes. */
export type StopMode = 'smart' | 'fast' | 'immediate';

const STOP_SIGNAL: Record<StopMode, NodeJS.Signals> = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' };

/**
 * Stops the cluster the way pg_ctl does (fast: SIGINT to the postmaster, which ends every session
 * and checkpoints), waiting until its pid file is gone. Needs no binaries, so a server whose
 * binaries were removed still stops. False when it was not running.
 */
export async function stopPostgres(dataDir: string, mode: StopMode = 'fast', timeoutSeconds = 60): Promise<boolean> {
  const running = runningPostmaster(dataDir);
  if (!running) return false;
  process.kill(running.pid, STOP_SIGNAL[mode]);
  await waitForPostmasterExit(running.pid, dataDir, timeoutSeconds);
  return true;
}

/**
 * Waits until the postmaster `pid` has exited: it closes its TCP socket and removes its unix
 * socket and pid file on the way out, so a start after this finds the port and folder free.
 */
export async function waitForPostmasterExit(pid: number, dataDir: string, timeoutSeconds = 60): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new DbfastError('SERVER_STOP_FAILED', `the server (pid ${pid}, data ${dataDir}) did not stop within ${timeoutSeconds} s`, {
    hint: `Look at its log; to force it: kill -QUIT ${pid}.`,
  });
}

/** Re-reads the configuration files (pg_ctl reload = SIGHUP). */
export function reloadPostgres(dataDir: string): boolean {
  const running = runningPostmaster(dataDir);
  if (running) process.kill(running.pid, 'SIGHUP');
  return running !== undefined;
}
