import { guardedWord } from './filter.js';
import { compareNatural, comparePaths } from './natural.js';
import type { ScannedFile } from './scan.js';

/** A top-level folder of the repository that holds SQL files (directly or deeper). */
export interface DetectedFolder {
  name: string;
  files: number;
  /** Its name starts with a number (`0_schema`, `10-seed`): the usual dbfast layout. */
  numbered: boolean;
  /** The guarded word in its name (seed/test/fixture/dev), when it has one. */
  guardedWord?: string | undefined;
}

export interface DetectedRepository {
  /** The repository folder relative to the searched folder: '' for the folder itself. */
  relativeDir: string;
  folders: DetectedFolder[];
  /** SQL files directly in the repository folder, not in a sub-folder. */
  rootFiles: string[];
  /** Files of the repository, relative to it, in run order. */
  files: string[];
  /** Other folders that also looked like repositories (the user may want --repo-dir). */
  alternatives: string[];
  /** .sql files of the repository that other files include (`\i` / `\ir`): they run there, never on their own. */
  includedOnly: string[];
}

const NUMBERED = /^\d+/;

interface Layout {
  folders: Map<string, string[]>;
  rootFiles: string[];
}

/** Groups relative paths by their first segment. */
function layoutOf(paths: readonly string[]): Layout {
  const folders = new Map<string, string[]>();
  const rootFiles: string[] = [];
  for (const rel of paths) {
    const slash = rel.indexOf('/');
    if (slash < 0) {
      rootFiles.push(rel);
      continue;
    }
    const name = rel.slice(0, slash);
    const list = folders.get(name) ?? [];
    list.push(rel.slice(slash + 1));
    folders.set(name, list);
  }
  return { folders, rootFiles };
}

function numberedFolders(layout: Layout): number {
  return [...layout.folders.keys()].filter((name) => NUMBERED.test(name)).length;
}

/** A folder looks like a dbfast repository when it has numbered SQL folders or SQL files of its own. */
function looksLikeRepository(layout: Layout): boolean {
  return layout.rootFiles.length > 0 || numberedFolders(layout) > 0;
}

function describe(relativeDir: string, layout: Layout, alternatives: string[], included: readonly string[]): DetectedRepository {
  const folders = [...layout.folders.entries()].map(([name, files]) => ({
    name,
    files: files.length,
    numbered: NUMBERED.test(name),
    guardedWord: guardedWord(name),
  }));
  folders.sort((a, b) => compareNatural(a.name, b.name));
  const files = [...layout.rootFiles, ...[...layout.folders.entries()].flatMap(([name, list]) => list.map((rel) => `${name}/${rel}`))];
  const prefix = relativeDir === '' ? '' : `${relativeDir}/`;
  const includedOnly = included.filter((file) => file.startsWith(prefix)).map((file) => file.slice(prefix.length));
  return { relativeDir, folders, rootFiles: layout.rootFiles, files: files.sort(comparePaths), alternatives, includedOnly: includedOnly.sort(comparePaths) };
}

/**
 * Finds the SQL repository in a folder's scanned files: the folder itself when it has numbered
 * SQL folders (`0_schema`, `6_migration`) or SQL files of its own; else one level down
 * (`db/0_schema` seen from a project root); else the folder itself with whatever SQL folders it has.
 * Returns undefined when there is no SQL at all. Files that other files include (`includedOnly`,
 * relative to the same folder as `files`) are not looked at: they run where they are included.
 */
export function detectRepository(scanned: readonly ScannedFile[], includedOnly: readonly string[] = []): DetectedRepository | undefined {
  const left = new Set(includedOnly);
  const files = scanned.filter((file) => !left.has(file.relativePath));
  if (files.length === 0) return undefined;
  const top = layoutOf(files.map((file) => file.relativePath));
  if (looksLikeRepository(top)) return describe('', top, [], includedOnly);

  const candidates = [...top.folders.entries()]
    .map(([name, inner]) => ({ name, layout: layoutOf(inner) }))
    .filter((candidate) => looksLikeRepository(candidate.layout))
    .sort((a, b) => numberedFolders(b.layout) - numberedFolders(a.layout) || compareNatural(a.name, b.name));
  const [best, ...others] = candidates;
  if (best) return describe(best.name, best.layout, others.map((other) => other.name), includedOnly);

  // No numbered folders anywhere near: a single SQL folder is the repository (`db/schema`, `db/seeds`).
  const only = top.folders.size === 1 ? [...top.folders.entries()][0] : undefined;
  if (only) {
    const inner = layoutOf(only[1]);
    if (inner.folders.size > 0) return describe(only[0], inner, [], includedOnly);
  }
  return describe('', top, [], includedOnly);
}
