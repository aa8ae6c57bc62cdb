import type { IncludeLink } from './hashcache.js';

/**
 * Which files reach which through `\i` / `\ir`, from links already found (finding them takes the
 * SQL reader, in src/sql, above this module: callers pass them in). Used by the build's plan (what
 * an environment's files include) and by `dbfast init` (files it must not list, since another file
 * runs them), so both agree on what "reached through an include" means.
 */
export interface LinkedFile {
  relativePath: string;
  /** The files it includes, and on which line. */
  includes?: IncludeLink[] | undefined;
}

/** What `files` reach through includes (transitively) that is not among them, each with where it was first included (`path:line`). */
export function includedBy<F extends LinkedFile>(all: readonly F[], files: readonly LinkedFile[]): Array<F & { includedFrom: string }> {
  const byPath = new Map(all.map((file) => [file.relativePath, file]));
  const selected = new Set(files.map((file) => file.relativePath));
  const found = new Map<string, F & { includedFrom: string }>();
  const visit = (file: LinkedFile): void => {
    for (const link of file.includes ?? []) {
      const target = byPath.get(link.relativePath);
      if (!target || selected.has(target.relativePath) || found.has(target.relativePath)) continue;
      found.set(target.relativePath, { ...target, includedFrom: `${file.relativePath}:${link.line}` });
      visit(target);
    }
  };
  files.forEach(visit);
  return [...found.values()];
}

/**
 * The files of `all` that run only where another file includes them: reached through includes
 * from a file no other file includes. Listed on their own as well, they would run twice. (Files
 * that include each other in a ring with no way in are left alone: nothing reaches them.)
 */
export function reachedOnlyThroughIncludes<F extends LinkedFile>(all: readonly F[]): Array<F & { includedFrom: string }> {
  const targets = new Set(all.flatMap((file) => (file.includes ?? []).filter((link) => link.relativePath !== file.relativePath).map((link) => link.relativePath)));
  return includedBy(all, all.filter((file) => !targets.has(file.relativePath)));
}
