import { readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import { comparePaths } from './natural.js';

export interface ScannedFile {
  /** Path relative to the repository, with `/` separators: the file's identity everywhere. */
  relativePath: string;
  absolutePath: string;
  size: number;
  mtimeMs: number;
  /** Inode number: with size and mtime, tells the hash cache a file was replaced. */
  ino: number;
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', '.dbfast']);

/**
 * Synchronous on purpose: a staleness check stats every file, and 1,000 sync stats take a few
 * milliseconds where 1,000 awaited ones take tens (one thread-pool round trip each).
 */
function walk(root: string, relative: string, out: ScannedFile[]): void {
  const dir = path.join(root, relative);
  const entries = readdirSync(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.') || SKIPPED_DIRECTORIES.has(entry.name)) continue;
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    const abs = path.join(root, rel);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      let target: ReturnType<typeof statSync> | undefined;
      try {
        target = statSync(abs);
      } catch {
        target = undefined;
      }
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) {
      walk(root, rel, out);
    } else if (isFile && entry.name.toLowerCase().endsWith('.sql')) {
      const info = statSync(abs);
      out.push({ relativePath: rel, absolutePath: abs, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino });
    }
  }
}

/** Every `*.sql` under the repository, in natural path order. */
export async function scanRepository(repositoryPath: string): Promise<ScannedFile[]> {
  const info = await stat(repositoryPath).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new DbfastError('REPOSITORY_NOT_FOUND', `repository folder ${repositoryPath} does not exist`, {
      hint: 'Set [repository] path in dbfast.toml to the folder that holds your SQL files.',
    });
  }
  const files: ScannedFile[] = [];
  walk(repositoryPath, '', files);
  return files.sort((a, b) => comparePaths(a.relativePath, b.relativePath));
}
