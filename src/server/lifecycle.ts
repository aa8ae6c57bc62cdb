import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { findServerBinaries, type ServerBinaries } from './binaries.js';
import { withServerLock } from './lock.js';
import { blockedAncestor, giveTo, serverRunAs, type RunAs } from './os-user.js';
import { INITDB_PREFIX, isRoot, majorPaths, refuseShellUnsafe, rootSetting, serverRoot, stateFile, type MajorPaths } from './paths.js';
import { choosePort, firstPort, freePortFrom, PORT_ATTEMPTS, portFree, portTakenError } from './ports.js';
import { runningPostmaster } from './postmaster.js';
import { INITDB_PASSWORD_PREFIX, initCluster, reloadPostgres, startPostgres, stopPostgres, waitForPostmasterExit, type ClusterSpec } from './postgres.js';
import { managedServer, readRecord, writeJsonFile, type ManagedServer, type ServerRecord } from './record.js';
import { SETTINGS_FILE, settingsFileText, settingsFor } from './settings.js';

/** Options of `dbfast server start` (commands that start the server on first need pass none). */
export interface StartServerOptions {
  env?: NodeJS.ProcessEnv | undefined;
  logger?: Logger | undefined;
  /** Listen on this port (refused when taken); default: the recorded one, or a free one chosen once. */
  port?: number | undefined;
  /** true: PostgreSQL's durable defaults; false: the fast settings; undefined: as recorded (fast for a new server). */
  durable?: boolean | undefined;
}

/** What a start did, and the server it leaves running. */
export interface StartServerResult {
  server: ManagedServer;
  /** This call started it (false: it was running). */
  started: boolean;
  /** This call ran initdb. */
  initialized: boolean;
  /** The recorded port was taken by another program, so the server moved from it. */
  movedFromPort?: number | undefined;
  durationMs: number;
}

function myUid(runAs: RunAs | undefined): number {
  return runAs?.uid ?? process.getuid?.() ?? 0;
}

async function ownerName(uid: number): Promise<string> {
  const passwd = await readFile('/etc/passwd', 'utf8').catch(() => '');
  const line = passwd.split('\n').find((entry) => entry.split(':')[2] === String(uid));
  return line ? `${line.split(':')[0]} (uid ${uid})` : `uid ${uid}`;
}

/** The root folder, created when missing: 0755 as root (the server's user passes through), else 0700. */
async function prepareRoot(root: string, source: string, runAs: RunAs | undefined): Promise<void> {
  if (runAs) {
    let blocked = await blockedAncestor(runAs, root);
    if (blocked?.dir === root) {
      // The server's own folder (a `mktemp -d` given as DBFAST_SERVER_DIR is 0700): opened for its user to pass through.
      await chmod(root, 0o755);
      blocked = await blockedAncestor(runAs, root);
    }
    if (blocked) {
      throw new DbfastError('SERVER_DIR_UNREACHABLE', `the managed server would live in ${root} (${source}), but its OS user "${runAs.name}" cannot pass through ${blocked.dir} (mode ${blocked.mode})`, {
        hint: `Set DBFAST_SERVER_DIR to a folder "${runAs.name}" can reach (e.g. under /var/lib or /srv), or unset it to use /var/lib/dbfast/server.`,
        details: { path: blocked.dir } });
    }
  }
  try {
    await mkdir(root, { recursive: true, mode: runAs ? 0o755 : 0o700 });
  } catch (error) {
    throw new DbfastError('SERVER_DIR_UNWRITABLE', `cannot create the managed server's folder ${root}: ${(error as Error).message}`, {
      hint: 'Set DBFAST_SERVER_DIR to a folder you can write to.',
      cause: error,
      details: { path: root } });
  }
}

/** The server's folder must be its user's; a data directory must be complete. Nothing is deleted here. */
async function checkExisting(paths: MajorPaths, runAs: RunAs | undefined): Promise<'absent' | 'ready'> {
  for (const dir of [paths.dir, paths.dataDir]) {
    const info = await stat(dir).catch(() => undefined);
    if (!info) continue;
    if (info.uid !== myUid(runAs)) {
      const expected = runAs ? `the server's user ${runAs.name}` : 'you';
      throw new DbfastError('SERVER_DIR_FOREIGN', `${dir} belongs to ${await ownerName(info.uid)}, not to ${expected}`, {
        hint: `dbfast does not touch folders it did not make. Give it back (chown -R ${runAs?.name ?? '$(id -un)'} ${dir}) if it is the managed server's, or set DBFAST_SERVER_DIR to another folder.`,
        details: { path: dir, ownerUid: info.uid } });
    }
  }
  if (!existsSync(paths.dataDir)) return 'absent';
  const missing = ['PG_VERSION', path.join('global', 'pg_control')].filter((file) => !existsSync(path.join(paths.dataDir, file)));
  if (missing.length > 0) {
    throw new DbfastError('SERVER_DATA_INCOMPLETE', `${paths.dataDir} is not a complete PostgreSQL data directory (no ${missing.join(', ')})`, {
      hint: `dbfast leaves it as it is. If nothing in it matters, remove it (dbfast server destroy --confirm, or rm -r ${paths.dataDir}) and run the command again; else move it away.`,
      details: { path: paths.dataDir } });
  }
  return 'ready';
}

/**
 * initdb into a fresh sibling folder, renamed to `data` only once complete: an interrupted first
 * start never leaves a half-made data directory where the server looks. Under the lock nobody else
 * runs initdb here, so earlier `data.initdb-*` folders are leftovers of killed runs: removed.
 */
async function initialize(paths: MajorPaths, binaries: ServerBinaries, runAs: RunAs | undefined, durable: boolean, logger: Logger): Promise<void> {
  for (const name of await readdir(paths.dir)) {
    // Also initdb's password files a killed run (SIGKILL: no cleanup) left beside them.
    if (name.startsWith(INITDB_PREFIX) || name.startsWith(INITDB_PASSWORD_PREFIX)) await rm(path.join(paths.dir, name), { recursive: true, force: true });
  }
  const fresh = path.join(paths.dir, `${INITDB_PREFIX}${randomBytes(4).toString('hex')}`);
  const password = randomBytes(24).toString('base64url');
  logger.progress({ phase: `creating the managed PostgreSQL ${binaries.version} server (initdb)`, detail: paths.dataDir });
  try {
    await initCluster({ binDir: binaries.binDir, dataDir: fresh, runAs }, { password, authHost: 'scram-sha-256', noSync: !durable });
    // The password first: a data directory is never there without it, whenever an interrupt comes.
    await writeFile(paths.passwordFile, `${password}\n`, { mode: 0o600 });
    await rename(fresh, paths.dataDir);
  } catch (error) {
    await rm(fresh, { recursive: true, force: true });
    throw error;
  }
}

async function writePgpass(paths: MajorPaths, port: number): Promise<void> {
  const password = (await readFile(paths.passwordFile, 'utf8')).trim();
  const escaped = password.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
  await writeFile(paths.pgpassFile, `127.0.0.1:${port}:*:postgres:${escaped}\nlocalhost:${port}:*:postgres:${escaped}\n`, { mode: 0o600 });
  await chmod(paths.pgpassFile, 0o600);
}

function recordOf(binaries: ServerBinaries, port: number, durable: boolean, runAs: RunAs | undefined, createdAt: string | undefined): ServerRecord {
  const { major, version, origin, binDir, foundBy } = binaries;
  return { major, version, origin, binDir, foundBy, port, durable, osUser: runAs?.name ?? os.userInfo().username, createdAt: createdAt ?? new Date().toISOString() };
}

/** Starts the managed server (initdb on first use), or finds it running. Safe to call from several processes at once. */
export async function startManagedServer(options: StartServerOptions = {}): Promise<StartServerResult> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const root = serverRoot(env);
  refuseShellUnsafe(root.dir, rootSetting(root.source), 'the managed server\'s folder');
  const runAs = await serverRunAs(env, logger);
  await prepareRoot(root.dir, root.source, runAs);
  return withServerLock(root.dir, logger, async () => {
    const binaries = await findServerBinaries({ env, runAs, root: root.dir, logger });
    const paths = majorPaths(root.dir, binaries.major);
    const existing = await checkExisting(paths, runAs);
    const previous = readRecord(root.dir, binaries.major);
    const durable = options.durable ?? previous?.durable ?? false;
    let initialized = false;
    // A taken --port fails before a first start's initdb, not after it.
    if (existing === 'absent' && options.port !== undefined && !(await portFree(options.port))) throw portTakenError(options.port);
    if (existing === 'absent') {
      await mkdir(paths.dir, { recursive: true, mode: 0o700 });
      await giveTo(runAs, paths.dir);
      await initialize(paths, binaries, runAs, durable, logger);
      initialized = true;
    }
    let running = runningPostmaster(paths.dataDir);
    if (running?.status === 'stopping') {
      // Shutting down (a `pg_ctl stop`, or a stop whose dbfast was killed): not a server to hand
      // out. Once it has exited, its port and socket are free and it starts again below.
      logger.info(`the managed server (pid ${running.pid}) is shutting down; waiting for it to exit before starting it again`);
      await waitForPostmasterExit(running.pid, paths.dataDir);
      running = undefined;
    }
    let record: ServerRecord;
    let movedFrom: number | undefined;
    if (running) {
      if (options.port !== undefined && options.port !== running.port) {
        throw new DbfastError('SERVER_RUNNING', `the managed server already runs on port ${running.port}`, {
          hint: `Stop it first (dbfast server stop), then start it with --port ${options.port}.`,
        });
      }
      // Running: it keeps the binaries it was started with (the record says which).
      record = { ...(previous ?? recordOf(binaries, running.port, durable, runAs, undefined)), port: running.port, durable };
      if (durable !== (previous?.durable ?? durable)) {
        await applySettings(paths, record, runAs);
        logger.info(durable ? 'the managed server now keeps PostgreSQL\'s durable defaults (fsync, synchronous_commit, full_page_writes on)' : 'the managed server now runs with the fast settings (fsync, synchronous_commit, full_page_writes off)');
      }
    } else {
      const spec = { binDir: binaries.binDir, dataDir: paths.dataDir, runAs };
      const start = await startOnAPort(spec, paths, { wanted: options.port, recorded: previous?.port, first: firstPort(env, binaries.major), durable, version: binaries.version }, logger);
      movedFrom = start.movedFrom;
      record = recordOf(binaries, start.port, durable, runAs, previous?.createdAt);
    }
    if (!running) {
      const how = initialized ? 'created and started' : 'started';
      logger.info(`${how} dbfast's PostgreSQL ${record.version} server on port ${record.port} (${paths.dataDir})`);
    }
    await writeJsonFile(paths.recordFile, record);
    await writePgpass(paths, record.port);
    const server = managedServer(root.dir, record);
    await writeJsonFile(stateFile(root.dir), server, isRoot() ? 0o644 : 0o600);
    return { server, started: !running, initialized, movedFromPort: movedFrom, durationMs: Date.now() - started };
  });
}

interface PortChoice {
  /** `--port`: refused when taken. */
  wanted: number | undefined;
  recorded: number | undefined;
  /** Where a server without a recorded port starts looking. */
  first: number;
  durable: boolean;
  version: string;
}

/**
 * Starts PostgreSQL on the chosen port. A port dbfast chose itself that another program binds
 * between the probe and PostgreSQL's bind is moved from, as a taken recorded port is (warned,
 * PORT_ATTEMPTS ports at most); any other failure, and a taken `--port`, is thrown as it is.
 */
async function startOnAPort(spec: ClusterSpec, paths: MajorPaths, choice: PortChoice, logger: Logger): Promise<{ port: number; movedFrom?: number | undefined }> {
  const chosen = await choosePort(choice.wanted, choice.recorded, choice.first);
  let { port } = chosen;
  let movedFrom = chosen.movedFrom;
  if (movedFrom !== undefined) logger.warn(`port ${movedFrom} is taken by another program; the managed server moves to port ${port}`);
  for (let attempt = 1; ; attempt++) {
    logger.progress({ phase: `starting the managed PostgreSQL ${choice.version} server`, detail: `port ${port}` });
    try {
      await startPostgres(spec, { logFile: paths.logFile, socketDir: paths.socketDir, settings: settingsFor({ port, socketDir: paths.socketDir, durable: choice.durable }) });
      return { port, movedFrom };
    } catch (error) {
      const taken = error instanceof DbfastError && error.code === 'SERVER_PORT_TAKEN';
      if (!taken || choice.wanted !== undefined || attempt >= PORT_ATTEMPTS) throw error;
      const next = await freePortFrom(port + 1);
      if (port === choice.recorded) movedFrom = port;
      logger.warn(`port ${port} was taken by another program as the managed server started; it moves to port ${next}`);
      port = next;
    }
  }
}

/** A durability change on a running server: every setting involved reloads without a restart. */
async function applySettings(paths: MajorPaths, record: ServerRecord, runAs: RunAs | undefined): Promise<void> {
  const file = path.join(paths.dataDir, SETTINGS_FILE);
  await writeFile(file, settingsFileText(settingsFor({ port: record.port, socketDir: paths.socketDir, durable: record.durable })), { mode: 0o600 });
  await giveTo(runAs, file);
  reloadPostgres(paths.dataDir);
}

/** The majors that have a server folder under `root` (a dbfast record in it). */
export async function recordedMajors(root: string): Promise<number[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  return names.filter((name) => /^\d+$/.test(name) && existsSync(majorPaths(root, Number(name)).recordFile)).map(Number).sort((a, b) => a - b);
}

export interface StopServerResult {
  /** Servers this call stopped, by major and port. */
  stopped: Array<{ major: number; port: number }>;
  durationMs: number;
}

/** Stops every managed server under the root (fast shutdown: sessions are ended). */
export async function stopManagedServer(options: { env?: NodeJS.ProcessEnv; logger?: Logger } = {}): Promise<StopServerResult> {
  const started = Date.now();
  const logger = options.logger ?? silentLogger;
  const root = serverRoot(options.env ?? process.env);
  if (!existsSync(root.dir)) return { stopped: [], durationMs: 0 };
  return withServerLock(root.dir, logger, async () => {
    const stopped: StopServerResult['stopped'] = [];
    for (const major of await recordedMajors(root.dir)) {
      const paths = majorPaths(root.dir, major);
      const running = runningPostmaster(paths.dataDir);
      if (running && (await stopPostgres(paths.dataDir, 'fast'))) stopped.push({ major, port: running.port });
    }
    return { stopped, durationMs: Date.now() - started };
  });
}
