import path from 'node:path';
import type { ConfigFile } from './schema.js';

/**
 * The SQL repositories of a project. One `[repository] path` is the simple case: its files are
 * named by their path in it (`0_schema/010_item.sql`). Several, written as `[[repositories]]`
 * (`name`, `path`) or as a list `[repository] path = ["../core-sql", "app"]` (each named after
 * its folder), run in the order written, and their files are named `NAME:path`
 * (`core:0_schema/010_item.sql`) everywhere: errors, status, manifests, filters.
 */
export interface RepositoryConfig {
  /** Set when the project names its repositories: files are then named `NAME:path`. */
  name?: string | undefined;
  /** Absolute folder. */
  path: string;
  /** Where dbfast.toml configures it, for messages: `repositories[1]`, `repository.path[0]`, `repository.path`. */
  key: string;
}

/** Repository names prefix file names (`core:0_schema/a.sql`): plain words. */
export const REPOSITORY_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

const QUALIFIED = /^([A-Za-z][A-Za-z0-9_-]{0,62}):(.*)$/s;

/** A file name or pattern split at its `NAME:` prefix; undefined when it has none. */
export function splitQualified(text: string): { repository: string; rest: string } | undefined {
  const match = QUALIFIED.exec(text);
  return match ? { repository: match[1] as string, rest: match[2] as string } : undefined;
}

/** How a project with named repositories names a file: `NAME:path`. */
export function qualifiedName(repository: string, relativePath: string): string {
  return `${repository}:${relativePath}`;
}

/** The forms as written, each with its key (before any rule is checked). */
function written(file: ConfigFile): Array<{ name: string | undefined; path: string; key: string; derived: boolean }> {
  if (file.repositories) return file.repositories.map((entry, index) => ({ name: entry.name, path: entry.path, key: `repositories[${index}]`, derived: false }));
  const configured = file.repository?.path;
  if (Array.isArray(configured)) {
    return configured.map((folder, index) => ({ name: path.basename(path.resolve('/', folder)), path: folder, key: `repository.path[${index}]`, derived: true }));
  }
  return [];
}

/** The repositories a checked file names, in run order; `[repository] path` (or DBFAST_REPOSITORY_PATH, or `.`) when it names none. */
export function resolveRepositories(file: ConfigFile, rootDir: string, env: NodeJS.ProcessEnv): RepositoryConfig[] {
  const named = written(file);
  if (named.length > 0) return named.map((entry) => ({ name: entry.name, path: path.resolve(rootDir, entry.path), key: entry.key }));
  const single = file.repository?.path;
  return [{ path: path.resolve(rootDir, env.DBFAST_REPOSITORY_PATH ?? (typeof single === 'string' ? single : '.')), key: 'repository.path' }];
}

/** The names of the repositories a file names (empty: one unnamed repository). */
export function repositoryNames(file: ConfigFile): string[] {
  return written(file).flatMap((entry) => (entry.name === undefined ? [] : [entry.name]));
}

/** A problem of the repositories' part of dbfast.toml: the key at fault and what is wrong. */
export interface RepositoryProblem {
  key: string;
  text: string;
}

const NAME_RULE = 'a letter, then letters, digits, "_" or "-", at most 63';

/** Names: valid, each once; `[repository] path` and `[[repositories]]` not both; no DBFAST_REPOSITORY_PATH with several. */
export function repositoryRules(file: ConfigFile, env: NodeJS.ProcessEnv): RepositoryProblem[] {
  const problems: RepositoryProblem[] = [];
  if (file.repositories && file.repository?.path !== undefined) {
    problems.push({ key: 'repository.path', text: '[[repositories]] names the repositories; remove repository.path (or the [[repositories]] tables)' });
  }
  const entries = written(file);
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const name = entry.name ?? '';
    const key = entry.derived ? entry.key : `${entry.key}.name`;
    const remedy = entry.derived ? '; write [[repositories]] with a name for each' : '';
    const before = seen.get(name);
    if (!REPOSITORY_NAME_PATTERN.test(name)) {
      const what = entry.derived ? `its folder name ${JSON.stringify(name)}` : JSON.stringify(name);
      problems.push({ key, text: `${what} is not a valid repository name (${NAME_RULE})${entry.derived ? remedy : '; files are shown as NAME:path'}` });
    } else if (before !== undefined) {
      problems.push({ key, text: entry.derived ? `its folder name ${JSON.stringify(name)} is already the name of ${before}${remedy}` : `repository ${JSON.stringify(name)} is defined twice (also ${before})` });
    } else {
      seen.set(name, entry.key);
    }
  }
  if (entries.length > 0 && env.DBFAST_REPOSITORY_PATH !== undefined) {
    const form = file.repositories ? '[[repositories]]' : 'a list in repository.path';
    problems.push({ key: 'DBFAST_REPOSITORY_PATH', text: `it replaces the one [repository] path, and dbfast.toml names its repositories with ${form}; unset it` });
  }
  return problems;
}

/**
 * A pattern's repository prefix, checked: in a project with named repositories it must name one
 * of them (no prefix: every repository); with one unnamed repository there is none to name.
 * Returns the problem, if any.
 */
export function patternRepositoryProblem(pattern: string, names: readonly string[]): string | undefined {
  const split = splitQualified(pattern);
  if (names.length > 0 && pattern.startsWith(':')) return `${JSON.stringify(pattern)} has an empty repository name before ":" (repositories: ${names.join(', ')})`;
  if (!split) return undefined;
  if (names.length > 0 && split.rest === '') return `${JSON.stringify(pattern)} names no folder or file after "${split.repository}:"`;
  if (names.length === 0) {
    return `${JSON.stringify(pattern)} names repository ${JSON.stringify(split.repository)}, but this project has one unnamed repository ([repository] path); name repositories with [[repositories]]`;
  }
  if (names.includes(split.repository)) return undefined;
  return `${JSON.stringify(pattern)} names repository ${JSON.stringify(split.repository)}, which is not defined (repositories: ${names.join(', ')})`;
}

/** The patterns of dbfast.toml that select files, with their keys: every filter key, `layers` folders, `cluster_setup`. */
function patternsOf(file: ConfigFile): Array<{ key: string; pattern: string }> {
  const found: Array<{ key: string; pattern: string }> = [];
  for (const [environment, settings] of Object.entries(file.environments ?? {})) {
    for (const key of ['include_directories', 'exclude_directories', 'include_files', 'exclude_files', 'migration_directories'] as const) {
      (settings[key] ?? []).forEach((pattern, index) => found.push({ key: `environments.${environment}.${key}[${index}]`, pattern }));
    }
    if (Array.isArray(settings.layers)) {
      settings.layers.forEach((layer, index) => {
        const folders = Array.isArray(layer) ? layer : layer.folders;
        const base = `environments.${environment}.layers[${index}]${Array.isArray(layer) ? '' : '.folders'}`;
        folders.forEach((folder, at) => found.push({ key: `${base}[${at}]`, pattern: folder }));
      });
    }
  }
  return found;
}

/** Every pattern's repository prefix checked, and each `cluster_setup` file named by repository when there are several. */
export function patternRules(file: ConfigFile): RepositoryProblem[] {
  const names = repositoryNames(file);
  const problems: RepositoryProblem[] = [];
  for (const { key, pattern } of patternsOf(file)) {
    const text = patternRepositoryProblem(pattern, names);
    if (text) problems.push({ key, text });
  }
  (file.repository?.cluster_setup ?? []).forEach((entry, index) => {
    const key = `repository.cluster_setup[${index}]`;
    if (names.length > 0 && !splitQualified(entry)) {
      problems.push({ key, text: `${JSON.stringify(entry)} must name its repository (e.g. ${names[0]}:${entry}): the project has several` });
      return;
    }
    const text = patternRepositoryProblem(entry, names);
    if (text) {
      problems.push({ key, text });
      return;
    }
    // Like includes and symbolic links: a setup file runs on the server, so it must be the repository's.
    if (leavesRepository(withinRepository(entry, names))) {
      problems.push({ key, text: `${JSON.stringify(entry)} must be a file inside its repository, relative to it (no "..", not absolute)` });
    }
  });
  return problems;
}

/** A path, written relative to its repository, that is absolute or climbs out of it (`..` anywhere). */
export function leavesRepository(relative: string): boolean {
  return relative.startsWith('/') || /^[A-Za-z]:/.test(relative) || relative.split(/[/\\]/).includes('..');
}

/** A folder pattern without its repository prefix (for the checks that apply within a repository). */
export function withinRepository(pattern: string, names: readonly string[]): string {
  const split = splitQualified(pattern);
  return split && names.includes(split.repository) ? split.rest : pattern;
}

/** A file named as the project names it (`NAME:path` with named repositories), placed: its repository's folder and its absolute path. */
export function locateFile(repositories: readonly RepositoryConfig[], name: string): { root: string; absolutePath: string; named: boolean } {
  const split = splitQualified(name);
  const repository = split ? repositories.find((candidate) => candidate.name !== undefined && candidate.name === split.repository) : undefined;
  if (repository && split) return { root: repository.path, absolutePath: path.resolve(repository.path, split.rest), named: true };
  const first = repositories[0] as RepositoryConfig;
  return { root: first.path, absolutePath: path.resolve(first.path, name), named: false };
}
