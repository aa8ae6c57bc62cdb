import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { sha256 } from '../project/hash.js';

/**
 * Which project made a database. Two projects on one server may pick the same template_name
 * (the README's walkthrough and dbfast.toml.example both say `shop`); without an owner each
 * would silently rebuild the other's templates. The owner is recorded in every manifest and
 * clone comment dbfast writes.
 *
 * `id` lives in `.dbfast/project-id` next to dbfast.toml, so a project keeps it when its folder
 * moves; `path` is that folder, so a project whose `.dbfast/` was deleted is still recognised
 * where it stands. A database is this project's when either matches.
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

/** This config's project identity; created on first use. A read-only checkout gets one derived from its path. */
export function projectOwner(config: Pick<DbfastConfig, 'rootDir'>): ProjectOwner {
  const file = path.join(config.rootDir, ID_FILE);
  const known = cache.get(config.rootDir);
  if (known) {
    // Deleted while this process runs (a clean of .dbfast/): put the same id back.
    if (!existsSync(file) && !known.id.startsWith('path-')) createId(file, known.id);
    return known;
  }
  const id = readId(file) ?? createId(file) ?? `path-${sha256(config.rootDir).slice(0, 24)}`;
  const owner = { id, path: config.rootDir };
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
