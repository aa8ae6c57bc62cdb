import { existsSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../logger.js';

/** Folders already warned about in this process: one warning per folder, not one per backup. */
const warned = new Set<string>();

/**
 * Dumps of production must not end up in git. True when `folder` lies inside a git working
 * tree and git would not ignore it (asked of git itself: `git check-ignore`, so every
 * .gitignore, .git/info/exclude and core.excludesFile counts). False when git is missing or
 * the folder is not in a working tree.
 */
export async function trackedByGit(folder: string): Promise<boolean> {
  // git needs an existing folder to start from; the backup folder may not exist yet.
  let existing = path.resolve(folder);
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  const inTree = await execa('git', ['-C', existing, 'rev-parse', '--is-inside-work-tree'], { reject: false });
  if (inTree.exitCode !== 0 || inTree.stdout.trim() !== 'true') return false;
  const ignored = await execa('git', ['-C', existing, 'check-ignore', '-q', '--', path.resolve(folder)], { reject: false });
  // 0: ignored; 1: not ignored; anything else (128): git could not tell, say nothing.
  return ignored.exitCode === 1;
}

/** Warns once per process when backups are written into a folder git would commit. */
export async function warnIfTrackedByGit(folder: string, logger: Logger): Promise<void> {
  if (warned.has(folder)) return;
  if (!(await trackedByGit(folder).catch(() => false))) return;
  warned.add(folder);
  logger.warn(
    `backups go to ${folder}, inside a git working tree and not ignored: a dump of the database could be committed. ` +
      'Add the folder (e.g. `.dbfast/`) to .gitignore, or set [backup] dir outside the repository or to s3://bucket/prefix.',
  );
}
