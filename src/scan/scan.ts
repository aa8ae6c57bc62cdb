import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import { comparePaths } from './natural.js';

export interface ScannedFile {
  /** Path relative to the repository, with `/` separators: the file's identity everywhere. */
  relativePath: string;
  absolutePath: string;
  size: number;
  mtimeMs: number;
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git', '.dbfast']);

async function walk(root: string, relative: string, out: ScannedFile[]): Promise<void> {
  const dir = path.join(root, relative);
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    if (entry.name.startsWith('.') || SKIPPED_DIRECTORIES.has(entry.name)) continue;
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    const abs = path.join(root, rel);
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(abs).catch(() => undefined);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) {
      await walk(root, rel, out);
    } else if (isFile && entry.name.toLowerCase().endsWith('.sql')) {
      const info = await stat(abs);
      out.push({ relativePath: rel, absolutePath: abs, size: info.size, mtimeMs: info.mtimeMs });
    }
  }
}

/** Every `*.sql` under the repository, in natural path order. */
export async function scanRepository(repositoryPath: string): Promise<ScannedFile[]> {
  const info = await stat(repositoryPath).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new DbfastError('REPOSITORY_NOT_FOUND', `repository folder ${repositoryPath} does not exist`, {
      hint: 'Set [repository] path in dbfast.toml to the folder that holds your SQL files.',
      exitCode: 2,
    });
  }
  const files: ScannedFile[] = [];
  await walk(repositoryPath, '', files);
  return files.sort((a, b) => comparePaths(a.relativePath, b.relativePath));
}
