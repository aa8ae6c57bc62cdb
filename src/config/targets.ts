import { DbfastError } from '../errors.js';
import { resolveConnection, type ConnectionSpec } from '../pg/connection.js';
import type { DbTarget } from '../pg/target.js';
import type { DbfastConfig, RemoteConfig } from './types.js';

/**
 * Where the local server's settings came from, in order of precedence: DBFAST_DATABASE_URL,
 * [database] url, [database] host/port/user/dbname, DATABASE_URL, PGHOST/PGPORT, and finally
 * nothing at all (libpq's defaults: the Unix socket or localhost, port 5432).
 */
export type LocalConnectionSource =
  | 'DBFAST_DATABASE_URL'
  | 'database.url'
  | '[database]'
  | 'DATABASE_URL'
  | 'PG* environment variables'
  | 'unconfigured';

export interface LocalConnection {
  target: DbTarget;
  source: LocalConnectionSource;
}

/**
 * The local server dbfast builds templates and seeds on: the one place its connection settings
 * are chosen, for every command and the library. Gaps in what is given are filled from PG* and
 * libpq's defaults by `resolveConnection`, as libpq would.
 */
export function resolveLocalConnection(config: DbfastConfig, env: NodeJS.ProcessEnv = config.env): LocalConnection {
  const db = config.database;
  const passwordEnv = db.passwordEnv ? { name: db.passwordEnv, key: 'database.password_env' } : undefined;
  const via = (source: LocalConnectionSource, spec: ConnectionSpec): LocalConnection => ({ source, target: resolveConnection({ ...spec, passwordEnv }, env) });
  if (env.DBFAST_DATABASE_URL) return via('DBFAST_DATABASE_URL', { conninfo: { value: env.DBFAST_DATABASE_URL, source: 'DBFAST_DATABASE_URL' } });
  if (db.url) return via('database.url', { conninfo: { value: db.url, source: 'database.url' } });
  if (db.host !== undefined || db.port !== undefined || db.user !== undefined || db.dbname !== undefined) {
    const field = (key: 'host' | 'port' | 'user' | 'dbname', value: string | number | undefined) =>
      value === undefined ? undefined : { value: String(value), source: `database.${key}` };
    return via('[database]', { fields: { host: field('host', db.host), port: field('port', db.port), user: field('user', db.user), dbname: field('dbname', db.dbname) } });
  }
  if (env.DATABASE_URL) return via('DATABASE_URL', { conninfo: { value: env.DATABASE_URL, source: 'DATABASE_URL' } });
  if (env.PGHOST || env.PGPORT) return via('PG* environment variables', {});
  // Configured nowhere: libpq's defaults.
  return via('unconfigured', {});
}

/** The local server's target (see resolveLocalConnection). */
export function localTarget(config: DbfastConfig, env: NodeJS.ProcessEnv = config.env): DbTarget {
  return resolveLocalConnection(config, env).target;
}

export function findRemote(config: DbfastConfig, name: string): RemoteConfig {
  const remote = config.remotes[name];
  if (!remote) {
    const known = Object.keys(config.remotes);
    throw new DbfastError('REMOTE_UNKNOWN', `no remote named "${name}" in ${config.configPath}`, {
      hint: known.length ? `Known remotes: ${known.join(', ')}.` : 'Add one with `dbfast remote add --name N --url URL --env ENV`.',
    });
  }
  return remote;
}

/** A remote's target: its URL, password_env, then PG* and libpq's defaults for what the URL leaves out. */
export function remoteTarget(remote: RemoteConfig, env: NodeJS.ProcessEnv = process.env): DbTarget {
  const passwordEnv = remote.passwordEnv ? { name: remote.passwordEnv, key: `remotes.${remote.name}.password_env` } : undefined;
  return resolveConnection({ conninfo: { value: remote.url, source: `remotes.${remote.name}.url` }, passwordEnv }, env);
}
