import { findEnvironment } from '../project/filter.js';
import { resolveRemoteContext, type RemoteContext } from '../remote/context.js';
import type { DbfastConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { migrationDirectories } from './files.js';

/** Which remote, and how the command runs. */
export interface MigrateScopeOptions {
  config: DbfastConfig;
  remote: string;
  /** `--env`: must be the remote's environment (its migrations are the ones its database gets). */
  environment?: string | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** One remote and its environment's migrations, resolved once. */
export interface MigrateScope extends RemoteContext {
  /** The environment's `migration_directories`. */
  directories: string[];
}

/** The migrations of a remote already resolved (a deploy in migrate mode). */
export function scopeOf(ctx: RemoteContext): MigrateScope {
  findEnvironment(ctx.config, ctx.environment);
  return { ...ctx, directories: migrationDirectories(ctx.config, ctx.environment) };
}

/** Resolves the remote (see `resolveRemoteContext`) and its environment's migration folders. */
export function migrateScope(options: MigrateScopeOptions): MigrateScope {
  return scopeOf(resolveRemoteContext(options));
}
