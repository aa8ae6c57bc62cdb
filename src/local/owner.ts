import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { sha256 } from '../project/hash.js';

/**
 * Which project made a database. Two projects on one server may pick the same template_name
 * (the README's walkthrough and the example configuration both say `shop`); without an owner each
 * would silently rebuild the other's templates. The owner is recorded in every manifest and
 * clone comment dbfast writes.
 *
 * Inside a git repository the project is the repository (and where in it dbfast.toml is): an id
 * kept in the repository's git folder (`.git/dbfast/project-id`, shared by all its worktrees,
 * moved with it, never committed), so the webhook's worktree of each pushed commit, or a second
 * worktree of yours, is the same project. Elsewhere the id lives in `.dbfast/project-id` next to
 * dbfast.toml. `path` is the folder of dbfast.toml, so a project whose id file was deleted is
 * still recognised where it stands: a database is this project's when either matches.
 */
export interface ProjectOwner {
  id: string;
  /** The folder of the project's dbfast.toml. */
  path: string;
}

const ID_FILE = path.join('.dbfast', 'project-id');
const cache = new Map<string, ProjectOwner>();

function readId(file: string): string | undefined {
  try {
    const id = readFileSync(file, 'utf8').trim();
    return /^[0-9a-f-]{8,64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Writes an id without ever exposing a half-written file: link(2) fails if another process won. */
function createId(file: string, id: string = randomUUID()): string | undefined {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(temp, `${id}\n`);
    try {
      linkSync(temp, file);
    } catch {
      // Another dbfast process created it first: use theirs.
    }
    return readId(file);
  } catch {
    return undefined;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The git folder shared by every worktree of the repository holding `start`, and that worktree's top. */
export function gitRepositoryOf(start: string): { commonDir: string; top: string } | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const dotGit = path.join(dir, '.git');
    const info = statSync(dotGit, { throwIfNoEntry: false });
    if (info?.isDirectory()) return { commonDir: dotGit, top: dir };
    if (info?.isFile()) {
      // A linked worktree: `.git` says where its own git folder is, which names the common one.
      const gitDir = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))?.[1]?.trim();
      if (!gitDir) return undefined;
      const own = path.resolve(dir, gitDir);
      const common = existsSync(path.join(own, 'commondir')) ? path.resolve(own, readFileSync(path.join(own, 'commondir'), 'utf8').trim()) : own;
      return { commonDir: common, top: dir };
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function resolveId(rootDir: string): string {
  const git = gitRepositoryOf(rootDir);
  if (git) {
    const file = path.join(git.commonDir, 'dbfast', 'project-id');
    const repository = readId(file) ?? createId(file);
    const where = path.relative(git.top, rootDir).split(path.sep).join('/') || '.';
    if (repository) return `git-${sha256(`${repository}\0${where}`).slice(0, 32)}`;
  }
  const file = path.join(rootDir, ID_FILE);
  return readId(file) ?? createId(file) ?? `path-${sha256(rootDir).slice(0, 24)}`;
}

/** This config's project identity; created on first use. A checkout where nothing can be written gets one derived from its path. */
export function projectOwner(config: Pick<DbfastConfig, 'rootDir'>): ProjectOwner {
  const known = cache.get(config.rootDir);
  if (known) {
    // Deleted while this process runs (a clean of .dbfast/): put the same id back.
    const file = path.join(config.rootDir, ID_FILE);
    if (/^[0-9a-f-]+$/.test(known.id) && !existsSync(file)) createId(file, known.id);
    return known;
  }
  const owner = { id: resolveId(config.rootDir), path: config.rootDir };
  cache.set(config.rootDir, owner);
  return owner;
}

/** True when `recorded` (from a manifest or clone comment) is this project; databases from before owners were recorded count as anyone's. */
export function isOwnedBy(recorded: ProjectOwner | undefined, owner: ProjectOwner): boolean {
  return recorded === undefined || recorded.id === owner.id || recorded.path === owner.path;
}

/** "the project at /path" for messages. */
export function describeOwner(recorded: ProjectOwner): string {
  return `the project at ${recorded.path}`;
}
