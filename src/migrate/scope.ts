import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import { findEnvironment } from '../project/filter.js';
import { DbfastError } from '../errors.js';
import { databaseName, type DbTarget } from '../pg/target.js';
import { migrationDirectories } from './files.js';

export interface MigrateScopeOptions {
  config: DbfastConfig;
  remote: string;
  /** `--env`: must be the remote's environment (its migrations are the ones its database gets). */
  environment?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** One remote's migrations, resolved from the config once. */
export interface MigrateScope {
  config: DbfastConfig;
  remote: RemoteConfig;
  environment: string;
  /** The environment's `migration_directories`. */
  directories: string[];
  target: DbTarget;
  database: string;
  env: NodeJS.ProcessEnv;
}

export function migrateScope(options: MigrateScopeOptions): MigrateScope {
  const { config } = options;
  const env = options.env ?? process.env;
  const remote = findRemote(config, options.remote);
  const environment = options.environment ?? remote.environment;
  if (environment !== remote.environment) {
    throw new DbfastError('ENVIRONMENT_MISMATCH', `remote "${remote.name}" takes environment "${remote.environment}", not "${environment}"`, {
      hint: `Use --env ${remote.environment} (or omit --env): a remote gets the migrations of its own environment.`,
    });
  }
  findEnvironment(config, environment);
  const target = remoteTarget(remote, env);
  return { config, remote, environment, directories: migrationDirectories(config, environment), target, database: databaseName(target), env };
}
