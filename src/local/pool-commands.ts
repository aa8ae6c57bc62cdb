import { localTarget } from '../server/managed.js';
import type { DbfastConfig } from '../config/types.js';
import { silentLogger, type Logger } from '../logger.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { poolNumbers } from '../pool/settings.js';
import { drainShelf, fillShelf, readPoolStatus, type DroppedPooled, type FillResult, type PooledDatabaseStatus } from '../pool/shelf.js';
import { templateDatabaseName } from './names.js';
import { ensurePoolTemplate, pooledOwnership } from './pool-template.js';

/** `dbfast pool status|fill|drain`: the ready databases kept on the local server for this project. */

export interface PoolCommandOptions {
  config: DbfastConfig;
  /** One environment; default: status and drain cover every environment, fill the default one. */
  environment?: string | undefined;
  logger?: Logger | undefined;
}

export interface PoolEnvironmentStatus {
  environment: string;
  template: string;
  /** Ready databases to keep (`[pool] size`, per environment overridable). */
  size: number;
  /** Ready databases of the template's current build. */
  ready: number;
  /** Stale or orphaned ones (dropped by the next pool, `pool fill`, `pool drain` or `drop --stale`). */
  stale: number;
}

export interface PoolStatusResult {
  /** The cap this config sets (`[pool] max_clones`). */
  maxClones: number;
  /** Pooled databases on the server, every project's, as counted against max_clones. */
  total: number;
  /** Pooled databases being made right now (every project's). */
  making: number;
  environments: PoolEnvironmentStatus[];
  databases: PooledDatabaseStatus[];
}

function environmentsOf(options: PoolCommandOptions): string[] {
  return options.environment ? [defaultEnvironmentName(options.config, options.environment)] : Object.keys(options.config.environments);
}

export async function poolStatus(options: PoolCommandOptions): Promise<PoolStatusResult> {
  const { config } = options;
  const names = environmentsOf(options);
  const templates = names.map((environment) => templateDatabaseName(config, environment));
  const server = await readPoolStatus(await localTarget(config, config.env, options.logger), pooledOwnership(config), templates);
  const environments = names.map((environment, index): PoolEnvironmentStatus => {
    const template = templates[index] as string;
    const mine = server.databases.filter((database) => database.template === template);
    return {
      environment,
      template,
      size: poolNumbers(config, environment).size,
      ready: mine.filter((database) => database.state === 'ready' && !database.stale).length,
      stale: mine.filter((database) => database.stale).length,
    };
  });
  return { maxClones: poolNumbers(config, names[0] ?? 'local').maxClones, total: server.total, making: server.making, environments, databases: server.databases };
}

export interface PoolFillOptions extends PoolCommandOptions {
  /** Overrides the configured size for this fill. */
  size?: number | undefined;
}

/** Builds the template when stale, drops the project's leftovers, makes ready databases up to `size`. */
export async function fillPool(options: PoolFillOptions): Promise<FillResult> {
  const { config } = options;
  const environment = defaultEnvironmentName(config, options.environment);
  const logger = options.logger ?? silentLogger;
  const numbers = poolNumbers(config, environment, { size: options.size });
  const template = await ensurePoolTemplate(config, environment, logger);
  return fillShelf({ target: await localTarget(config, config.env, logger), template, size: numbers.size, maxClones: numbers.maxClones, owns: pooledOwnership(config), logger });
}

export interface PoolDrainResult {
  dropped: DroppedPooled[];
}

/** Drops the ready databases (and leftovers) of the project's templates; leases of running processes stay. */
export async function drainPool(options: PoolCommandOptions): Promise<PoolDrainResult> {
  const templates = environmentsOf(options).map((environment) => templateDatabaseName(options.config, environment));
  return { dropped: await drainShelf(await localTarget(options.config, options.config.env, options.logger), pooledOwnership(options.config), templates) };
}
