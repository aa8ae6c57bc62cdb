import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { qualifiedName } from '../config/repositories.js';
import type { DbfastConfig } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { comparePaths } from './natural.js';

/** The named repository a file belongs to, in a project with several. */
export interface FileRepository {
  name: string;
  /** Its folder: includes resolve in it and may not leave it. */
  root: string;
}

export interface ScannedFile {
  /**
   * Path relative to the repository, with `/` separators: the file's identity everywhere. In a
   * project with named repositories, `NAME:path` (`core:0_schema/010_item.sql`).
   */
  relativePath: string;
  absolutePath: string;
  size: number;
  mtimeMs: number;
  /** Inode number: with size and mtime, tells the hash cache a file was replaced. */
  ino: number;
  /** Set in a project with named repositories (then `relativePath` is `NAME:path`). */
  repository?: FileRepository | undefined;
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

/** Every repository folder of the project that is missing, all named by their keys at once (nothing is scanned before). */
async function checkRepositoriesExist(config: DbfastConfig): Promise<void> {
  const missing: string[] = [];
  for (const repository of config.repositories) {
    const info = await stat(repository.path).catch(() => undefined);
    if (!info?.isDirectory()) missing.push(`${repository.key}${repository.name === undefined ? '' : '.path'}: ${repository.path}${repository.name === undefined ? '' : ` (repository "${repository.name}")`}`);
  }
  if (missing.length === 0) return;
  const only = config.repositories.length === 1 ? config.repositories[0] : undefined;
  if (only && only.name === undefined) {
    // The simple case says it as it always has.
    throw new DbfastError('REPOSITORY_NOT_FOUND', `repository folder ${only.path} does not exist`, {
      hint: 'Set [repository] path in dbfast.toml to the folder that holds your SQL files.',
    });
  }
  const head = missing.length === 1 ? '1 repository folder does not exist' : `${missing.length} repository folders do not exist`;
  throw new DbfastError('REPOSITORY_NOT_FOUND', `${head}:\n  ${missing.join('\n  ')}`, {
    hint: 'Fix the path of each repository named above in dbfast.toml (relative paths are relative to the folder of dbfast.toml), or check out the missing repository there.',
    details: { missing },
  });
}

/**
 * Every `*.sql` of the project: repository by repository in the order dbfast.toml lists them,
 * each in natural path order. With named repositories each file is named `NAME:path` and knows
 * its repository; with one `[repository]`, files keep their plain paths.
 */
export async function scanProject(config: DbfastConfig): Promise<ScannedFile[]> {
  await checkRepositoriesExist(config);
  const all: ScannedFile[] = [];
  for (const repository of config.repositories) {
    const files = await scanRepository(repository.path);
    const name = repository.name;
    if (name === undefined) {
      all.push(...files);
      continue;
    }
    const owner: FileRepository = { name, root: repository.path };
    for (const file of files) all.push({ ...file, relativePath: qualifiedName(name, file.relativePath), repository: owner });
  }
  return all;
}
