import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

const PREFIX = 'deploy-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A private folder for one deploy's temporary files (`.dbfast/tmp/deploy-<pid>-<hex>`).
 * Folders of processes that no longer exist (killed deploys) are removed first.
 */
export async function createWorkDir(rootDir: string): Promise<{ dir: string; removedLeftovers: string[] }> {
  const base = path.join(rootDir, '.dbfast', 'tmp');
  await mkdir(base, { recursive: true });
  const removedLeftovers: string[] = [];
  for (const entry of await readdir(base)) {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(entry);
    if (match && !alive(Number(match[1]))) {
      await rm(path.join(base, entry), { recursive: true, force: true });
      removedLeftovers.push(entry);
    }
  }
  const dir = path.join(base, `${PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir);
  return { dir, removedLeftovers };
}
