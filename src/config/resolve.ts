import path from 'node:path';
import { DbfastError } from '../errors.js';
import type { ConfigFile, RemoteFileConfig } from './schema.js';
import type { BackupPlace, DbfastConfig, EnvironmentConfig, RemoteConfig } from './types.js';

export const DEFAULT_TEMPLATE_NAME = 'dbfast';

interface UrlParts {
  host?: string | undefined;
  port?: number | string | undefined;
  user?: string | undefined;
  dbname?: string | undefined;
}

/** Builds a postgres URL; a socket directory goes into `?host=` (libpq and node-postgres both honour it). */
export function buildUrl(parts: UrlParts): string {
  const socket = parts.host?.startsWith('/') ? parts.host : undefined;
  const host = socket || !parts.host ? 'localhost' : parts.host.includes(':') ? `[${parts.host}]` : parts.host;
  const user = parts.user ? `${encodeURIComponent(parts.user)}@` : '';
  const port = parts.port ? `:${parts.port}` : '';
  const db = encodeURIComponent(parts.dbname ?? 'postgres');
  return `postgresql://${user}${host}${port}/${db}${socket ? `?host=${encodeURIComponent(socket)}` : ''}`;
}

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

function resolveDatabase(file: ConfigFile, env: NodeJS.ProcessEnv): { url?: string; source: string; passwordEnv?: string; server: 'managed' | 'external' } {
  const db = file.database ?? {};
  if (usesManagedServer(db, env)) return { source: 'the managed server', server: 'managed' };
  return { ...resolveExternal(db, env), server: 'external' };
}

function resolveExternal(db: NonNullable<ConfigFile['database']>, env: NodeJS.ProcessEnv): { url: string; source: string; passwordEnv?: string } {
  const passwordEnv = db.password_env;
  if (env.DBFAST_DATABASE_URL) return { url: env.DBFAST_DATABASE_URL, source: 'DBFAST_DATABASE_URL', passwordEnv };
  if (db.url) return { url: db.url, source: 'database.url', passwordEnv };
  if (db.host || db.port || db.user || db.dbname) {
    return {
      url: buildUrl({ host: db.host ?? env.PGHOST, port: db.port ?? env.PGPORT, user: db.user ?? env.PGUSER, dbname: db.dbname ?? env.PGDATABASE }),
      source: '[database]',
      passwordEnv,
    };
  }
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, source: 'DATABASE_URL', passwordEnv };
  return {
    url: buildUrl({ host: env.PGHOST, port: env.PGPORT, user: env.PGUSER, dbname: env.PGDATABASE }),
    source: 'PG* environment variables',
    passwordEnv: passwordEnv ?? (env.PGPASSWORD ? 'PGPASSWORD' : undefined),
  };
}

function namedRemotes(file: ConfigFile, configPath: string): Array<[string, RemoteFileConfig]> {
  const remotes = file.remotes;
  if (!remotes) return [];
  if (!Array.isArray(remotes)) return Object.entries(remotes);
  const seen = new Set<string>();
  return remotes.map(({ name, ...rest }, index) => {
    if (seen.has(name)) {
      throw new DbfastError('CONFIG_INVALID', `${configPath}: remotes[${index}].name: remote "${name}" is defined twice`, {
        hint: 'Give each [[remotes]] entry its own name.',
      });
    }
    seen.add(name);
    return [name, rest];
  });
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

export function resolveConfig(file: ConfigFile, configPath: string, env: NodeJS.ProcessEnv): DbfastConfig {
  const rootDir = path.dirname(configPath);
  const environments: Record<string, EnvironmentConfig> = {};
  for (const [name, environment] of Object.entries(file.environments ?? { local: {} })) {
    environments[name] = { ...environment, name };
  }
  const remotes: Record<string, RemoteConfig> = {};
  const problems: string[] = [];
  for (const [name, remote] of namedRemotes(file, configPath)) {
    if (!environments[remote.environment]) {
      problems.push(
        `remotes.${name}.environment: unknown environment "${remote.environment}" (defined: ${Object.keys(environments).join(', ') || 'none'})`,
      );
    }
    remotes[name] = resolveRemote(name, remote, rootDir);
  }
  if (problems.length > 0) {
    throw new DbfastError('CONFIG_INVALID', `${configPath} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, {
      hint: 'Add the environment under [environments.NAME], or point the remote at one that exists.',
      details: { problems },
    });
  }
  const database = resolveDatabase(file, env);
  const templateName = env.DBFAST_TEMPLATE_NAME ?? file.database?.template_name ?? DEFAULT_TEMPLATE_NAME;
  return {
    configPath,
    rootDir,
    database: { url: database.url, source: database.source, passwordEnv: database.passwordEnv, server: database.server, templateName },
    repository: {
      path: path.resolve(rootDir, env.DBFAST_REPOSITORY_PATH ?? file.repository?.path ?? '.'),
      runner: file.repository?.runner ?? 'inprocess',
      variables: Object.fromEntries(Object.entries(file.repository?.variables ?? {}).map(([name, value]) => [name, String(value)])),
      clusterSetup: file.repository?.cluster_setup ?? [],
    },
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
    deploy: file.deploy ?? {},
    webhooks: file.webhooks,
  };
}

/** An environment's psql variables: `[repository] variables`, overridden by `[environments.NAME] variables`. */
export function environmentVariables(config: DbfastConfig, environment: string): Record<string, string> {
  const own = config.environments[environment]?.variables ?? {};
  return { ...config.repository.variables, ...Object.fromEntries(Object.entries(own).map(([name, value]) => [name, String(value)])) };
}
