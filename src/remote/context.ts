import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import { silentLogger, type Logger } from '../logger.js';
import { databaseName, type DbTarget } from '../pg/target.js';
import { checkLiveName } from './names.js';
import { checkEnvironment, isProductionRemote } from './policy.js';

/**
 * One remote, resolved once per command: everything the remote side needs to know about it,
 * so no function below looks the remote up again, re-reads the environment or re-decides
 * whether it is production.
 */
export interface RemoteContext {
  config: DbfastConfig;
  remote: RemoteConfig;
  /** The remote's environment (`--env`, when given, was checked against it). */
  environment: string;
  /** Where the live database is; the password (from password_env or the URL) kept apart from the URL. */
  target: DbTarget;
  /** The live database's name. */
  database: string;
  production: boolean;
  /** `[tools] pg_bin_dir`: where pg_dump, pg_restore and psql come from. */
  pgBinDir: string | undefined;
  logger: Logger;
  /** The environment variables the command runs with (hooks get them; password_env is read from them). */
  env: NodeJS.ProcessEnv;
}

/** Which remote, and how the command runs (`--env`, logger, environment variables). */
export interface RemoteContextOptions {
  config: DbfastConfig;
  remote: string;
  /** `--env`: must be the remote's environment. */
  environment?: string | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * The command may replace the live database (deploy, restore, rollback): its name must leave
   * room for the names derived from it, checked here, before anything connects.
   */
  replaces?: boolean | undefined;
}

/** Resolves a remote for one command; throws (exit 2) for an unknown remote, a wrong --env, an unset password_env, or a name too long to replace. */
export function resolveRemoteContext(options: RemoteContextOptions): RemoteContext {
  const { config } = options;
  const env = options.env ?? process.env;
  const remote = findRemote(config, options.remote);
  const environment = checkEnvironment(remote, options.environment);
  const target = remoteTarget(remote, env);
  const database = databaseName(target);
  if (options.replaces) checkLiveName(database);
  return {
    config,
    remote,
    environment,
    target,
    database,
    production: isProductionRemote(remote),
    pgBinDir: config.tools.pgBinDir,
    logger: options.logger ?? silentLogger,
    env,
  };
}
