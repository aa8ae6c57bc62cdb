import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
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

/** What a walk needs besides the folder it is in. */
interface Walk {
  root: string;
  /** The repository's real path: every link must resolve inside it. */
  realRoot: string;
  out: ScannedFile[];
}

function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(realRoot.endsWith(path.sep) ? realRoot : `${realRoot}${path.sep}`);
}

function linkError(code: 'REPOSITORY_LINK_OUTSIDE' | 'REPOSITORY_LINK_LOOP', rel: string, message: string): DbfastError {
  const hint =
    code === 'REPOSITORY_LINK_OUTSIDE'
      ? 'Links may only point inside [repository] path (so the files you build are the files you see there). Copy the files in, or set repository.path to a folder that holds both.'
      : 'Remove the link, or point it at a folder that does not contain it.';
  return new DbfastError(code, message, { hint, details: { link: rel } });
}

/**
 * Where a symbolic link leads, checked: inside the repository, and not to a folder the walk is
 * already in (which would list its files again at every level until the OS gives up).
 */
function followLink(walk: Walk, abs: string, rel: string, ancestors: ReadonlySet<string>): { real: string; info: Stats } | undefined {
  let real: string;
  try {
    real = realpathSync(abs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw linkError('REPOSITORY_LINK_LOOP', rel, `the symbolic link ${rel} in the repository is a loop (it resolves to itself)`);
    // A dangling link is skipped, as before: it names nothing to run.
    return undefined;
  }
  if (!isInside(walk.realRoot, real)) {
    throw linkError('REPOSITORY_LINK_OUTSIDE', rel, `the symbolic link ${rel} in the repository points outside it, to ${real}`);
  }
  const info = statSync(real);
  if (info.isDirectory() && ancestors.has(real)) {
    throw linkError('REPOSITORY_LINK_LOOP', rel, `the symbolic link ${rel} in the repository points to a folder that contains it (${real}): following it would loop`);
  }
  return { real, info };
}

/**
 * Synchronous on purpose: a staleness check stats every file, and 1,000 sync stats take a few
 * milliseconds where 1,000 awaited ones take tens (one thread-pool round trip each).
 * `ancestors` holds the real paths of the folders from the root down to this one.
 */
function walkFolder(walk: Walk, relative: string, realDir: string, ancestors: Set<string>): void {
  const dir = path.join(walk.root, relative);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIPPED_DIRECTORIES.has(entry.name)) continue;
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    const abs = path.join(walk.root, rel);
    let real = path.join(realDir, entry.name);
    let info: Stats | undefined;
    if (entry.isSymbolicLink()) {
      const followed = followLink(walk, abs, rel, ancestors);
      if (!followed) continue;
      ({ real, info } = followed);
    }
    const isDir = info ? info.isDirectory() : entry.isDirectory();
    const isFile = info ? info.isFile() : entry.isFile();
    if (isDir) {
      ancestors.add(real);
      walkFolder(walk, rel, real, ancestors);
      ancestors.delete(real);
    } else if (isFile && entry.name.toLowerCase().endsWith('.sql')) {
      const fileInfo = info ?? statSync(abs);
      walk.out.push({ relativePath: rel, absolutePath: abs, size: fileInfo.size, mtimeMs: fileInfo.mtimeMs, ino: fileInfo.ino });
    }
  }
}

/**
 * Every `*.sql` under the repository, in natural path order. Symbolic links are followed when
 * they resolve inside the repository (their files are listed under the link's own path); a link
 * that leads outside it or into a folder that contains it is refused before anything runs.
 */
export async function scanRepository(repositoryPath: string): Promise<ScannedFile[]> {
  const info = await stat(repositoryPath).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new DbfastError('REPOSITORY_NOT_FOUND', `repository folder ${repositoryPath} does not exist`, {
      hint: 'Set [repository] path in dbfast.toml to the folder that holds your SQL files.',
    });
  }
  const realRoot = realpathSync(repositoryPath);
  const walk: Walk = { root: repositoryPath, realRoot, out: [] };
  walkFolder(walk, '', realRoot, new Set([realRoot]));
  return walk.out.sort((a, b) => comparePaths(a.relativePath, b.relativePath));
}
