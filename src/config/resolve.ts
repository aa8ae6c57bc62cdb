import path from 'node:path';
import { DbfastError, isDbfastError } from '../errors.js';
import { resolveRepositories } from './repositories.js';
import { configRules, formatProblem, tableEntry, type RemoteEntry } from './rules.js';
import type { ConfigFile, RemoteFileConfig } from './schema.js';
import type { BackupPlace, DbfastConfig, EnvironmentConfig, RemoteConfig } from './types.js';

export const DEFAULT_TEMPLATE_NAME = 'dbfast';

/** The `[database]` keys that decide it (the rest, user/dbname/template_name, do not name a server). */
export interface DatabaseServerKeys {
  url?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  server?: 'managed' | 'external' | undefined;
}

/**
 * True when the local database is configured nowhere, or `[database] server = "managed"` asks
 * for the managed server. Explicit configuration wins: DBFAST_DATABASE_URL, then `[database]`
 * url/host/port; `server = "managed"` next (so DATABASE_URL, meant for the application, does not
 * override it); then DATABASE_URL, PGHOST, PGPORT. `server = "external"` never uses it.
 */
export function usesManagedServer(database: DatabaseServerKeys | undefined, env: NodeJS.ProcessEnv): boolean {
  const named = database?.url !== undefined || database?.host !== undefined || database?.port !== undefined;
  if (database?.server === 'managed' && named) {
    const keys = (['url', 'host', 'port'] as const).filter((key) => database[key] !== undefined).map((key) => `database.${key}`);
    throw new DbfastError('CONFIG_INVALID', `database.server = "managed" contradicts ${keys.join(' and ')}: the managed server has its own address`, {
      hint: 'Remove server = "managed" to use that server, or remove the address to use the managed one.',
    });
  }
  if (env.DBFAST_DATABASE_URL || named || database?.server === 'external') return false;
  if (database?.server === 'managed') return true;
  return !(env.DATABASE_URL || env.PGHOST || env.PGPORT);
}

function remoteEntries(file: ConfigFile): RemoteEntry[] {
  const remotes = file.remotes;
  if (!remotes) return [];
  if (!Array.isArray(remotes)) return Object.entries(remotes).map(([name, remote]) => tableEntry(name, remote));
  return remotes.map(({ name, ...remote }, index) => ({ name, remote, keyPrefix: `remotes[${index}]`, nameKey: `remotes[${index}].name` }));
}

function resolveRemote(name: string, remote: RemoteFileConfig, rootDir: string): RemoteConfig {
  const production = remote.environment === 'production' || name === 'production';
  return {
    name,
    url: remote.url,
    passwordEnv: remote.password_env,
    environment: remote.environment,
    allowDestructive: remote.allow_destructive ?? false,
    backupBeforeDeploy: production ? true : (remote.backup_before_deploy ?? true),
    requireConfirmation: production || (remote.require_confirmation ?? false),
    noOwner: remote.no_owner ?? false,
    templateOwners: remote.no_owner === false,
    noPrivileges: remote.no_privileges ?? false,
    keepPrevious: remote.keep_previous ?? true,
    validate: remote.validate ?? [],
    deploy: remote.deploy ?? {},
    healthCheck: remote.health_check,
    backup: resolveBackupPlace(remote.backup ?? {}, rootDir),
  };
}

/** A backup dir is an s3:// location or a folder relative to the config file. */
export function resolveBackupDir(dir: string, rootDir: string): string {
  return /^s3:\/\//i.test(dir) ? dir : path.resolve(rootDir, dir);
}

function resolveBackupPlace(place: NonNullable<RemoteFileConfig['backup']>, rootDir: string): Partial<BackupPlace> {
  const resolved: Partial<BackupPlace> = {};
  if (place.dir !== undefined) resolved.dir = resolveBackupDir(place.dir, rootDir);
  if (place.endpoint !== undefined) resolved.endpoint = place.endpoint;
  if (place.force_path_style !== undefined) resolved.forcePathStyle = place.force_path_style;
  if (place.keep_last !== undefined) resolved.keepLast = place.keep_last;
  if (place.keep_days !== undefined) resolved.keepDays = place.keep_days;
  return resolved;
}

/** Whether the local server is the managed one (`usesManagedServer`; a contradiction is a problem of the file). */
function serverOf(file: ConfigFile, env: NodeJS.ProcessEnv, problems: string[]): 'managed' | 'external' {
  try {
    return usesManagedServer(file.database, env) ? 'managed' : 'external';
  } catch (error) {
    if (!isDbfastError(error)) throw error;
    problems.push(error.message);
    return 'external';
  }
}

/**
 * A type-checked file to the config every command uses: the rules of rules.ts (every problem at
 * once, each with its key), then defaults and paths. The local server's connection settings are
 * kept as written; config/targets.ts resolves them (with `env`) when a command connects.
 */
export function resolveConfig(file: ConfigFile, configPath: string, env: NodeJS.ProcessEnv): DbfastConfig {
  const rootDir = path.dirname(configPath);
  const entries = remoteEntries(file);
  const problems = configRules(file, entries, env).problems.map(formatProblem);
  const server = serverOf(file, env, problems);
  if (problems.length > 0) {
    throw new DbfastError('CONFIG_INVALID', `${configPath} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, {
      hint: 'Fix the keys named above (the README lists every key of dbfast.toml).',
      details: { problems },
    });
  }
  const environments: Record<string, EnvironmentConfig> = {};
  for (const [name, environment] of Object.entries(file.environments ?? { local: {} })) environments[name] = { ...environment, name };
  const remotes: Record<string, RemoteConfig> = {};
  for (const entry of entries) remotes[entry.name] = resolveRemote(entry.name, entry.remote, rootDir);
  const db = file.database ?? {};
  const repositories = resolveRepositories(file, rootDir, env);
  return {
    configPath,
    rootDir,
    env,
    database: {
      url: db.url,
      host: db.host,
      port: db.port,
      user: db.user,
      dbname: db.dbname,
      passwordEnv: db.password_env,
      server,
      templateName: env.DBFAST_TEMPLATE_NAME ?? db.template_name ?? DEFAULT_TEMPLATE_NAME,
    },
    repository: {
      path: (repositories[0] as (typeof repositories)[number]).path,
      runner: file.repository?.runner ?? 'inprocess',
      variables: Object.fromEntries(Object.entries(file.repository?.variables ?? {}).map(([name, value]) => [name, String(value)])),
      clusterSetup: file.repository?.cluster_setup ?? [],
    },
    repositories,
    environments,
    remotes,
    backup: {
      dir: resolveBackupDir(file.backup?.dir ?? '.dbfast/backups', rootDir),
      endpoint: file.backup?.endpoint,
      forcePathStyle: file.backup?.force_path_style,
      keepLast: file.backup?.keep_last ?? file.backup?.keep,
      keepDays: file.backup?.keep_days,
      compression: file.backup?.compression ?? 'zstd',
    },
    tools: { pgBinDir: file.tools?.pg_bin_dir ? path.resolve(rootDir, file.tools.pg_bin_dir) : undefined },
    pool: file.pool ?? {},
    deploy: file.deploy ?? {},
    webhooks: file.webhooks,
  };
}

/** An environment's psql variables: `[repository] variables`, overridden by `[environments.NAME] variables`. */
export function environmentVariables(config: DbfastConfig, environment: string): Record<string, string> {
  const own = config.environments[environment]?.variables ?? {};
  return { ...config.repository.variables, ...Object.fromEntries(Object.entries(own).map(([name, value]) => [name, String(value)])) };
}
