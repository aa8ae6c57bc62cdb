import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { registerCleanup } from '../cleanup.js';
import { processAlive } from '../server/postmaster.js';

const PREFIX = 'deploy-';

/**
 * Runs `fn` with a private folder for one deploy's temporary files (the template dump,
 * `.dbfast/tmp/deploy-<pid>-<hex>`), removed afterwards whatever happens, an interrupt
 * included. Folders of processes that no longer exist (killed deploys) are removed first.
 */
export async function withWorkDir<T>(rootDir: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const base = path.join(rootDir, '.dbfast', 'tmp');
  await mkdir(base, { recursive: true });
  for (const entry of await readdir(base)) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(entry);
    if (match && !processAlive(Number(match[1]))) await rm(path.join(base, entry), { recursive: true, force: true });
  }
  const dir = path.join(base, `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir);
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const unregister = registerCleanup(remove);
  try {
    return await fn(dir);
  } finally {
    unregister();
    await remove();
  }
}
