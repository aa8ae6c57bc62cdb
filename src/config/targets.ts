import { DbfastError } from '../errors.js';
import { targetFromUrl, type DbTarget } from '../pg/target.js';
import type { DbfastConfig, RemoteConfig } from './types.js';

function passwordFrom(envName: string | undefined, key: string, env: NodeJS.ProcessEnv): string | undefined {
  if (!envName) return undefined;
  const value = env[envName];
  if (value === undefined) {
    throw new DbfastError('PASSWORD_ENV_UNSET', `${key} names ${envName}, which is not set`, {
      hint: `Export ${envName} with the password, or remove ${key} to use the URL or ~/.pgpass.`,
    });
  }
  return value;
}

/**
 * The configured local server, or undefined when dbfast's managed server is the local one
 * (server/managed.ts `localTarget` starts it then).
 */
export function configuredLocalTarget(config: DbfastConfig, env: NodeJS.ProcessEnv = process.env): DbTarget | undefined {
  if (config.database.server === 'managed' || config.database.url === undefined) return undefined;
  const password = passwordFrom(config.database.passwordEnv, 'database.password_env', env);
  return targetFromUrl(config.database.url, password);
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

/** Password order: password_env, then the URL, then ~/.pgpass (node-postgres and libpq read it themselves). */
export function remoteTarget(remote: RemoteConfig, env: NodeJS.ProcessEnv = process.env): DbTarget {
  const password = passwordFrom(remote.passwordEnv, `remotes.${remote.name}.password_env`, env);
  return targetFromUrl(remote.url, password);
}
