import lockfile from 'proper-lockfile';
import { registerCleanup } from '../cleanup.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { lockTarget } from './paths.js';

/**
 * One dbfast process at a time starts, stops or destroys the servers under a root: two commands
 * that need the server at the same moment start it once (the second waits, then finds it
 * running). proper-lockfile's lock is a folder made atomically whose mtime the holder refreshes;
 * a holder that was killed leaves a lock that goes stale after STALE_MS and is taken over.
 */
const STALE_MS = 5_000;
const WAIT_MS = 300_000;

/** Runs `fn` holding the lock of the servers under `root`, waiting (and saying so) while another process holds it. */
export async function withServerLock<T>(root: string, logger: Logger, fn: () => Promise<T>): Promise<T> {
  const options = { stale: STALE_MS, update: 1_000, realpath: false, onCompromised: (error: Error) => logger.warn(`the managed server's lock was lost: ${error.message}`) };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(lockTarget(root), options);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw lockError(root, error);
    logger.info('waiting for another dbfast process that is starting or stopping the managed server');
    const retries = Math.ceil(WAIT_MS / 200);
    release = await lockfile.lock(lockTarget(root), { ...options, retries: { retries, factor: 1, minTimeout: 200, maxTimeout: 200 } }).catch((waited: unknown) => {
      throw lockError(root, waited);
    });
  }
  // Released on an interrupt too (Ctrl-C during a first start's initdb): the CLI runs cleanups,
  // then exits; a lock left behind would make the next command wait for it to go stale.
  const unregister = registerCleanup(() => release().catch(() => undefined));
  try {
    return await fn();
  } finally {
    unregister();
    await release().catch(() => undefined);
  }
}

function lockError(root: string, error: unknown): DbfastError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOCKED') {
    return new DbfastError('SERVER_LOCK_TIMEOUT', `another dbfast process held the managed server's lock (${lockTarget(root)}.lock) for ${WAIT_MS / 1000} s`, {
      hint: 'Wait for it to finish (a first start runs initdb), or end it; a lock whose holder died frees itself within seconds.',
      cause: error,
    });
  }
  return new DbfastError('SERVER_DIR_UNWRITABLE', `cannot lock the managed server's folder ${root}: ${(error as Error).message}`, {
    hint: 'Check that the folder is yours and writable, or set DBFAST_SERVER_DIR to one that is.',
    cause: error,
    details: { path: root } });
}
