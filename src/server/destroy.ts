import { existsSync } from 'node:fs';
import { open, readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { recordedMajors } from './lifecycle.js';
import { withServerLock } from './lock.js';
import { majorPaths, serverRoot, stateFile } from './paths.js';
import { runningPostmaster } from './postmaster.js';
import { stopPostgres } from './postgres.js';
import { readState } from './record.js';
import { diskUsage } from './status.js';

/** What `dbfast server destroy` removed. */
export interface DestroyServerResult {
  root: string;
  /** Folders and files removed. */
  removed: string[];
  /** Servers that were running and were stopped first. */
  stopped: Array<{ major: number; port: number }>;
  freedBytes: number;
}

/**
 * `dbfast server destroy --confirm`: stops every managed server under the root and deletes what
 * dbfast made there (server folders with dbfast's record in them, the binaries copy, the state
 * file). Anything else in the folder stays, so a DBFAST_SERVER_DIR pointed somewhere by mistake
 * loses nothing that is not dbfast's.
 */
export async function destroyManagedServer(options: { env?: NodeJS.ProcessEnv; logger?: Logger; confirmed: boolean }): Promise<DestroyServerResult> {
  const root = serverRoot(options.env ?? process.env);
  if (!options.confirmed) {
    throw new DbfastError('CONFIRMATION_REQUIRED', `destroying the managed server in ${root.dir} deletes every database on it; nothing was changed`, {
      hint: 'Run it again with --confirm if that is what you want.',
    });
  }
  const result: DestroyServerResult = { root: root.dir, removed: [], stopped: [], freedBytes: 0 };
  if (!existsSync(root.dir)) return result;
  const logger = options.logger ?? silentLogger;
  await withServerLock(root.dir, logger, async () => {
    // One set of files seen for the whole destroy: a file hard-linked into two folders frees its bytes once.
    const seen = new Set<string>();
    for (const major of await recordedMajors(root.dir)) {
      const paths = majorPaths(root.dir, major);
      const running = runningPostmaster(paths.dataDir);
      if (running && (await stopPostgres(paths.dataDir, 'fast'))) result.stopped.push({ major, port: running.port });
      result.freedBytes += await diskUsage(paths.dir, seen);
      await rm(paths.dir, { recursive: true, force: true });
      result.removed.push(paths.dir);
      if (!paths.socketDir.startsWith(paths.dir) && existsSync(paths.socketDir)) await rm(paths.socketDir, { recursive: true, force: true });
    }
    const binaries = path.join(root.dir, 'binaries');
    if (existsSync(binaries)) {
      result.freedBytes += await diskUsage(binaries, seen);
      await rm(binaries, { recursive: true, force: true });
      result.removed.push(binaries);
    }
    if (readState(root.dir) || existsSync(stateFile(root.dir))) {
      await rm(stateFile(root.dir), { force: true });
      result.removed.push(stateFile(root.dir));
    }
  });
  // The lock is released (its folder gone): the root goes too when nothing else is in it.
  if ((await readdir(root.dir)).length === 0) await rmdir(root.dir).catch(() => undefined);
  return result;
}

/** The last `lines` lines of the server's log (the server started last under the root). */
export async function serverLogs(options: { env?: NodeJS.ProcessEnv; lines?: number } = {}): Promise<{ logFile: string | null; lines: string[] }> {
  const state = readState(serverRoot(options.env ?? process.env).dir);
  if (!state || !existsSync(state.logFile)) return { logFile: state?.logFile ?? null, lines: [] };
  const wanted = options.lines ?? 50;
  const handle = await open(state.logFile, 'r');
  try {
    const { size } = await handle.stat();
    // Enough bytes for `wanted` ordinary lines; a log is read from its end.
    const length = Math.min(size, Math.max(65536, wanted * 400));
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (length < size) lines.shift();
    return { logFile: state.logFile, lines: lines.slice(-wanted) };
  } finally {
    await handle.close();
  }
}
