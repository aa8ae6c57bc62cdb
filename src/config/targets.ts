import { DbfastError } from '../errors.js';
import { resolveConnection, type ConnectionSpec } from '../pg/connection.js';
import type { DbTarget } from '../pg/target.js';
import type { DbfastConfig, RemoteConfig } from './types.js';

/**
 * Where the local server's settings came from: dbfast's managed server (src/server/, when
 * nothing names a server, or `[database] server = "managed"`), else in order of precedence
 * DBFAST_DATABASE_URL, [database] url, [database] host/port/user/dbname, DATABASE_URL,
 * PGHOST/PGPORT, and with `server = "external"` and nothing else libpq's defaults.
 */
export type LocalConnectionSource =
  | 'managed server'
  | 'DBFAST_DATABASE_URL'
  | 'database.url'
  | '[database]'
  | 'DATABASE_URL'
  | 'PG* environment variables'
  | 'libpq defaults';

export interface LocalConnection {
  target: DbTarget;
  source: LocalConnectionSource;
}

/**
 * The configured (external) local server's target: the settings `[database]` or the
 * environment give, gaps filled from PG* and libpq's defaults by `resolveConnection`, as libpq
 * would. Synchronous; no server is started. The managed server is the other branch of
 * `resolveLocalConnection` (server/managed.ts: starting a server is that module's business,
 * and config/ sits below it).
 */
export function resolveExternalConnection(config: DbfastConfig, env: NodeJS.ProcessEnv = config.env): LocalConnection {
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
  return via('libpq defaults', {});
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
