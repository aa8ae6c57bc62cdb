import picomatch from 'picomatch';
import { DbfastError } from '../errors.js';
import { splitQualified } from '../config/repositories.js';
import type { DbfastConfig, EnvironmentConfig } from '../config/types.js';

/** The words that mark data a production database must never receive. */
export const GUARDED_WORDS = ['seed', 'test', 'fixture', 'dev'] as const;

export interface FilterableFile {
  /** `NAME:path` when the file belongs to a named repository (`repository` set). */
  relativePath: string;
  /** The named repository it belongs to, in a project with several. */
  repository?: { name: string } | undefined;
  /** `file:line` of the `\i` / `\ir` that brings the file in, when the environment reaches it only that way. */
  includedFrom?: string;
}

function segments(text: string): string[] {
  return text.split('/').filter((segment) => segment !== '' && segment !== '.');
}

/**
 * True when `dir` names the file's folder or one above it, compared segment by segment
 * from the repository root: `0_schema` matches `0_schema/a.sql` but never `10_schema/a.sql`.
 */
export function inDirectory(relativePath: string, dir: string): boolean {
  const want = segments(dir);
  const have = segments(relativePath).slice(0, -1);
  if (want.length === 0 || want.length > have.length) return false;
  return want.every((segment, index) => have[index] === segment);
}

/** A file's repository (named ones only) and its path in it. */
function located(file: FilterableFile): { repository: string | undefined; path: string } {
  const name = file.repository?.name;
  if (name === undefined) return { repository: undefined, path: file.relativePath };
  return { repository: name, path: file.relativePath.slice(name.length + 1) };
}

/**
 * A folder or glob of dbfast.toml against a file. In a project with named repositories,
 * `NAME:pattern` applies in repository NAME only and a plain pattern in every repository; with
 * one unnamed repository, patterns are taken as written.
 */
function patternFor(file: FilterableFile, pattern: string): { path: string; pattern: string } | undefined {
  const where = located(file);
  if (where.repository === undefined) return { path: where.path, pattern };
  const split = splitQualified(pattern);
  if (!split) return { path: where.path, pattern };
  return split.repository === where.repository ? { path: where.path, pattern: split.rest } : undefined;
}

/** `inDirectory` for a file of the project, with `dir` possibly naming its repository (`core:0_schema`). */
export function fileInDirectory(file: FilterableFile, dir: string): boolean {
  const match = patternFor(file, dir);
  return match !== undefined && inDirectory(match.path, match.pattern);
}

/** Globs compiled once each (a pattern's repository prefix is decided per file). */
function matcher(globs: readonly string[] | undefined): ((file: FilterableFile) => boolean) | undefined {
  if (!globs || globs.length === 0) return undefined;
  const compiled = new Map<string, (path: string) => boolean>();
  const compile = (glob: string): ((path: string) => boolean) => {
    let found = compiled.get(glob);
    if (!found) compiled.set(glob, (found = picomatch(glob, { dot: true })));
    return found;
  };
  return (file) =>
    globs.some((glob) => {
      const match = patternFor(file, glob);
      return match !== undefined && compile(match.pattern)(match.path);
    });
}

/** The files an environment gets, in the order given (the scanner's). */
export function filterFiles<T extends FilterableFile>(files: readonly T[], environment: EnvironmentConfig): T[] {
  const includeDirs = environment.include_directories ?? [];
  const excludeDirs = environment.exclude_directories ?? [];
  const includeGlob = matcher(environment.include_files);
  const excludeGlob = matcher(environment.exclude_files);
  const includesEverything = includeDirs.length === 0 && !includeGlob;
  return files.filter((file) => {
    const included = includesEverything || includeDirs.some((dir) => fileInDirectory(file, dir)) || (includeGlob?.(file) ?? false);
    if (!included) return false;
    if (excludeDirs.some((dir) => fileInDirectory(file, dir))) return false;
    return !(excludeGlob?.(file) ?? false);
  });
}

export function findEnvironment(config: DbfastConfig, name: string): EnvironmentConfig {
  const environment = config.environments[name];
  if (!environment) {
    throw new DbfastError('ENVIRONMENT_UNKNOWN', `no environment named "${name}" in ${config.configPath}`, {
      hint: `Defined environments: ${Object.keys(config.environments).join(', ') || 'none'}. Add [environments.${name}] to dbfast.toml.`,
    });
  }
  return environment;
}

/** `--env` when given; else `local`; else the only environment. */
export function defaultEnvironmentName(config: DbfastConfig, requested?: string): string {
  if (requested) return findEnvironment(config, requested).name;
  if (config.environments.local) return 'local';
  const names = Object.keys(config.environments);
  if (names.length === 1) return names[0] as string;
  throw new DbfastError('ENVIRONMENT_REQUIRED', `several environments are defined (${names.join(', ')}) and none is called "local"`, {
    hint: 'Pass --env NAME.',
  });
}

/** Production environments: named `production`, or deployed to a remote whose environment is production. */
export function isProductionEnvironment(config: DbfastConfig, name: string): boolean {
  if (name === 'production') return true;
  return Object.values(config.remotes).some((remote) => remote.environment === name && remote.name === 'production');
}

export interface GuardViolation {
  relativePath: string;
  word: (typeof GUARDED_WORDS)[number];
  includedFrom?: string;
}

/**
 * Forms of the guarded words, matched against whole words of a path. Whole words, not
 * substrings: `1_seed_common`, `tests/`, `dev_users.sql` and `seedData.sql` are guarded, while
 * `devices.sql`, `latest.sql` and `testimonials.sql` (schema that production needs) are not.
 */
const GUARDED_FORMS: ReadonlyMap<string, (typeof GUARDED_WORDS)[number]> = new Map(
  (
    [
      ['seed', ['seed', 'seeds', 'seeded', 'seeding', 'seeder', 'seeders', 'seeddata']],
      ['test', ['test', 'tests', 'testing', 'testdata']],
      ['fixture', ['fixture', 'fixtures']],
      ['dev', ['dev', 'devs', 'devel', 'develop', 'development', 'devdata', 'devonly']],
    ] as const
  ).flatMap(([word, forms]) => forms.map((form) => [form, word] as const)),
);

/** Splits a path into lower-case words at separators, digits and camelCase humps. */
function words(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((word) => word !== '');
}

/** The guarded word a path or folder name contains as a whole word, if any. */
export function guardedWord(text: string): (typeof GUARDED_WORDS)[number] | undefined {
  for (const word of words(text)) {
    const found = GUARDED_FORMS.get(word);
    if (found) return found;
  }
  return undefined;
}

/** Files a production environment would get that look like development or test data. */
export function guardViolations(files: readonly FilterableFile[]): GuardViolation[] {
  const violations: GuardViolation[] = [];
  for (const file of files) {
    const word = guardedWord(file.relativePath);
    if (word) violations.push({ relativePath: file.relativePath, word, ...(file.includedFrom ? { includedFrom: file.includedFrom } : {}) });
  }
  return violations;
}

/** Throws when a production environment would receive seed/test/fixture/dev files. */
export function assertProductionSafe(config: DbfastConfig, environment: EnvironmentConfig, files: readonly FilterableFile[]): void {
  if (!isProductionEnvironment(config, environment.name) || environment.allow_seed_data === true) return;
  const violations = guardViolations(files);
  if (violations.length === 0) return;
  const list = violations.map((v) => `  ${v.relativePath} (contains "${v.word}"${v.includedFrom ? `; included from ${v.includedFrom}` : ''})`).join('\n');
  throw new DbfastError(
    'PRODUCTION_GUARD',
    `environment "${environment.name}" is a production environment but would include ${violations.length} file${violations.length === 1 ? ' that looks' : 's that look'} like development or test data:\n${list}`,
    {
      hint: `Exclude them with exclude_directories / exclude_files in [environments.${environment.name}], or set allow_seed_data = true there if they really belong in production.`,
      details: { files: violations.map((v) => v.relativePath) }, },
  );
}
