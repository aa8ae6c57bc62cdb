import { isDbfastError, type ErrorCode } from '../errors.js';
import { resolveConnection } from '../pg/connection.js';
import { parseConninfo } from '../pg/conninfo.js';
import { liveNameProblem } from '../pg/swap-names.js';
import { leavesRepository, patternRules, repositoryNames, repositoryRules, withinRepository } from './repositories.js';
import type { ConfigFile, RemoteFileConfig } from './schema.js';

/**
 * The rules dbfast.toml must follow beyond its types, as small pure functions that return every
 * problem (each naming its key) instead of stopping at the first. The loader runs them on every
 * load (they are cheap; the zod type check is what the fingerprint cache skips), and `remote add`
 * runs the same ones on the remote it is about to write: one validation for both.
 */
export interface Problem {
  /** The key at fault, e.g. `remotes.staging.url`. */
  key: string;
  text: string;
  /** The error code `remote add` reports it under (the loader reports CONFIG_INVALID). */
  code: ErrorCode;
}

export interface RuleResult {
  problems: Problem[];
  warnings: string[];
}

/** `key: text`, as listed in CONFIG_INVALID messages. */
export function formatProblem(problem: Problem): string {
  return `${problem.key}: ${problem.text}`;
}

/** Remote names become folder and file names (backups, history) and TOML keys: keep them plain. */
export const REMOTE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
/** Template names become database names and file names (`<template>_<env>.dump`). */
export const TEMPLATE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;
/** Environment names end template names (`<template>_<env>`), so the same characters. */
export const ENVIRONMENT_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,39}$/;

/** PostgreSQL's own template databases: every CREATE DATABASE copies one of them. */
const TEMPLATE_DATABASES = new Set(['template0', 'template1']);

function show(value: string): string {
  return JSON.stringify(value);
}

export function templateNameProblem(name: string, key: string): Problem | undefined {
  if (TEMPLATE_NAME_PATTERN.test(name)) return undefined;
  return { key, code: 'TEMPLATE_NAME_INVALID', text: `${show(name)} is not a valid template name (1 to 40 letters, digits and "_", starting with a letter or "_"); it becomes database and file names` };
}

/**
 * The most bytes of `<template_name>_<environment>`, a template database's name: dbfast's side
 * names add up to 23 bytes to it (local/names.ts MAX_BASE_BYTES) and PostgreSQL names stop at 63.
 */
export const MAX_TEMPLATE_DATABASE_BYTES = 40;

/** The environment whose name is longest in bytes ('' for none). */
function longestName(names: readonly string[]): string {
  return names.reduce((longest, name) => (Buffer.byteLength(name) > Buffer.byteLength(longest) ? name : longest), '');
}

/** The most bytes a template name may have so that every one of `environments` fits after it. */
export function maxTemplateNameBytes(environments: readonly string[]): number {
  return MAX_TEMPLATE_DATABASE_BYTES - 1 - Buffer.byteLength(longestName(environments));
}

/** A template name too long for one of the environments (its template database would not fit), named by `key`. */
export function templateNameFitProblem(name: string, environments: readonly string[], key: string): Problem | undefined {
  const environment = longestName(environments);
  const database = `${name}_${environment}`;
  const bytes = Buffer.byteLength(database);
  if (bytes <= MAX_TEMPLATE_DATABASE_BYTES) return undefined;
  return {
    key,
    code: 'TEMPLATE_NAME_INVALID',
    text: `${show(name)} is too long for environment "${environment}": its template "${database}" would be ${bytes} bytes, over the ${MAX_TEMPLATE_DATABASE_BYTES} dbfast allows (room for its suffixes within PostgreSQL's 63); use at most ${maxTemplateNameBytes(environments)} bytes`,
  };
}

export function remoteNameProblem(name: string, key: string): Problem | undefined {
  if (REMOTE_NAME_PATTERN.test(name)) return undefined;
  return { key, code: 'REMOTE_NAME_INVALID', text: `${show(name)} is not a valid remote name (a letter, then letters, digits, "_" or "-", at most 63); it becomes folder and file names` };
}

function environmentNameProblem(name: string): Problem | undefined {
  if (ENVIRONMENT_NAME_PATTERN.test(name)) return undefined;
  return { key: `environments.${name}`, code: 'ENVIRONMENT_NAME_INVALID', text: `${show(name)} is not a valid environment name (1 to 40 letters, digits, "_" or "-"); it becomes part of database and file names` };
}

/** Folders of the repository, as whole path segments from its root: never absolute, never `..`. */
function directoryProblems(environment: string, file: ConfigFile): Problem[] {
  const problems: Problem[] = [];
  const settings = file.environments?.[environment] ?? {};
  const names = repositoryNames(file);
  for (const key of ['include_directories', 'exclude_directories', 'migration_directories'] as const) {
    (settings[key] ?? []).forEach((written, index) => {
      // `core:0_schema` is a folder of repository core: the rule applies to the folder.
      if (leavesRepository(withinRepository(written, names))) {
        problems.push({ key: `environments.${environment}.${key}[${index}]`, code: 'CONFIG_INVALID', text: `${show(written)} must be a folder inside the repository, relative to it (no "..", not absolute)` });
      }
    });
  }
  return problems;
}

/** A connection string in the file: it must parse and carry values libpq takes. */
function connectionProblems(text: string, key: string): Problem[] {
  try {
    parseConninfo(text, key);
    // Resolving checks port, sslmode and connect_timeout; the environment is not consulted for them here.
    resolveConnection({ conninfo: { value: text, source: key } }, {});
    return [];
  } catch (error) {
    if (!isDbfastError(error)) throw error;
    const text = error.message.startsWith(`${key}: `) ? error.message.slice(key.length + 2) : error.message;
    return [{ key, code: error.code === 'SSLMODE_INVALID' ? 'SSLMODE_INVALID' : 'REMOTE_URL_INVALID', text }];
  }
}

/** A remote of the file and the keys that name it: `remotes.NAME` (table form) or `remotes[i]`, `remotes[i].name`. */
export interface RemoteEntry {
  name: string;
  remote: RemoteFileConfig;
  keyPrefix: string;
  nameKey: string;
}

/** The entry of a remote written as `[remotes.NAME]`. */
export function tableEntry(name: string, remote: RemoteFileConfig): RemoteEntry {
  return { name, remote, keyPrefix: `remotes.${name}`, nameKey: `remotes.${name}` };
}

/**
 * A remote as written: its name, its connection string, its environment, and the database it
 * names (resolved with the environment, as a connection would: PGDATABASE, then the user name).
 */
export function remoteRules(entry: RemoteEntry, environments: readonly string[], env: NodeJS.ProcessEnv): RuleResult {
  const { name, remote, keyPrefix } = entry;
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const nameProblem = remoteNameProblem(name, entry.nameKey);
  if (nameProblem) problems.push(nameProblem);
  const environmentKey = `${keyPrefix}.environment`;
  if (!environments.includes(remote.environment)) {
    problems.push({ key: environmentKey, code: 'ENVIRONMENT_UNKNOWN', text: `unknown environment ${show(remote.environment)} (defined: ${environments.join(', ') || 'none'})` });
  } else if (name === 'production' && remote.environment === 'local') {
    problems.push({
      key: environmentKey,
      code: 'PRODUCTION_ENVIRONMENT_CONFLICT',
      text: 'a remote named "production" makes its environment a production environment, and "local" is the development environment seed uses; deploy an environment of its own (e.g. [environments.production]) or name the remote otherwise',
    });
  }
  const urlKey = `${keyPrefix}.url`;
  const urlProblems = connectionProblems(remote.url, urlKey);
  problems.push(...urlProblems);
  if (urlProblems.length === 0) {
    let database: { name: string; source: string } | undefined;
    try {
      const settings = resolveConnection({ conninfo: { value: remote.url, source: urlKey } }, env).settings;
      database = { name: settings.dbname, source: settings.sources.dbname ?? urlKey };
    } catch {
      // A bad PG* variable: the connection reports it where it is used.
    }
    if (database && TEMPLATE_DATABASES.has(database.name)) {
      problems.push({
        key: urlKey,
        code: 'REMOTE_DATABASE_PROTECTED',
        text: `database ${show(database.name)} (from ${database.source}) is a template database of PostgreSQL itself; every CREATE DATABASE on that server copies it, so dbfast never deploys into it or replaces it. Point the remote at a database of its own`,
      });
    } else if (database && liveNameProblem(database.name)) {
      // The rule every deploy, restore and rollback applies: a remote none of them could use is refused when written or loaded.
      problems.push({ key: urlKey, code: 'NAME_TOO_LONG', text: `${liveNameProblem(database.name) as string} (from ${database.source})` });
    } else if (database?.name === 'postgres') {
      warnings.push(
        `remote ${show(name)} deploys into database "postgres" (from ${database.source}), the server's default maintenance database: a replacing deploy swaps it out, and tools that connect to "postgres" by default will see the application's tables. A database of its own (CREATE DATABASE app) is safer, unless your provider gives you only this one.`,
      );
    }
  }
  return { problems, warnings };
}

/** Every rule of a parsed (and type-checked) file; `remotes` in file order. */
export function configRules(file: ConfigFile, remotes: readonly RemoteEntry[], env: NodeJS.ProcessEnv): RuleResult {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const environments = Object.keys(file.environments ?? { local: {} });
  for (const environment of environments) {
    const problem = environmentNameProblem(environment);
    if (problem) problems.push(problem);
    problems.push(...directoryProblems(environment, file));
  }
  for (const problem of [...repositoryRules(file, env), ...patternRules(file)]) problems.push({ ...problem, code: 'CONFIG_INVALID' });
  const database = file.database ?? {};
  if (database.template_name !== undefined) {
    const problem = templateNameProblem(database.template_name, 'database.template_name');
    if (problem) problems.push(problem);
  }
  if (env.DBFAST_TEMPLATE_NAME !== undefined) {
    const problem = templateNameProblem(env.DBFAST_TEMPLATE_NAME, 'DBFAST_TEMPLATE_NAME');
    if (problem) problems.push(problem);
  }
  // The name in force (the variable wins) must leave room for every environment's suffix.
  const templateName = env.DBFAST_TEMPLATE_NAME ?? database.template_name;
  if (templateName !== undefined && !problems.some((problem) => problem.code === 'TEMPLATE_NAME_INVALID')) {
    const problem = templateNameFitProblem(templateName, environments, env.DBFAST_TEMPLATE_NAME === undefined ? 'database.template_name' : 'DBFAST_TEMPLATE_NAME');
    if (problem) problems.push(problem);
  }
  if (database.url !== undefined) {
    problems.push(...connectionProblems(database.url, 'database.url'));
    const fields = (['host', 'port', 'user', 'dbname'] as const).filter((key) => database[key] !== undefined);
    if (fields.length > 0) problems.push({ key: 'database', code: 'CONFIG_INVALID', text: `url and ${fields.join(', ')} are both set; give the server either as url or as host/port/user/dbname` });
  }
  const seen = new Set<string>();
  for (const entry of remotes) {
    if (seen.has(entry.name)) problems.push({ key: entry.nameKey, code: 'REMOTE_EXISTS', text: `remote ${show(entry.name)} is defined twice` });
    seen.add(entry.name);
    const result = remoteRules(entry, environments, env);
    problems.push(...result.problems);
    warnings.push(...result.warnings);
  }
  return { problems, warnings };
}
