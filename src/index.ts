/**
 * dbfast's library API: the CLI calls exactly these. Each function takes either a loaded
 * `config` or where to find one (`configPath`, `cwd`, `env`, as the CLI would), and returns the
 * same result object the CLI prints with --json. Implementations load lazily, so importing this
 * module stays cheap for a test runner's global setup.
 */
import type { DbfastConfig } from './config/types.js';
import type { LoadConfigOptions } from './config/load.js';
import type { BuildOptions, BuildResult } from './local/build.js';
import type { StatusOptions, StatusResult } from './local/status.js';
import type { SeedOptions, SeedResult } from './local/seed.js';
import type { ListResult } from './local/list.js';
import type { DropOptions, DropResult } from './local/drop.js';
import type { ServeWebhooksOptions, WebhookServer } from './webhook/server.js';
import type { WebhookEvent } from './webhook/store.js';
import type { Lease, Pool } from './pool/types.js';
import type { PoolCommandOptions, PoolDrainResult, PoolFillOptions, PoolStatusResult } from './local/pool-commands.js';
import type { FillResult } from './pool/shelf.js';

export { DbfastError, ERRORS, isDbfastError, type DbfastErrorJson, type ErrorCode, type ExitCode } from './errors.js';
export { silentLogger, type Logger, type ProgressEvent } from './logger.js';
import type { Logger } from './logger.js';
export type { DbfastConfig, EnvironmentConfig, RemoteConfig, Runner } from './config/types.js';
export type { BuildResult } from './local/build.js';
export type { EnvironmentStatus, StatusResult } from './local/status.js';
export type { TemplateManifest, CloneMetadata } from './local/manifest.js';
export type { Freshness, TemplateState } from './local/staleness.js';
export type { SeedResult } from './local/seed.js';
export type { DbfastDatabase, DatabaseKind, ListResult } from './local/list.js';
export type { DropResult } from './local/drop.js';
export type { CloneStrategy } from './local/strategy.js';
export type { LoadConfigOptions } from './config/load.js';
export { findConfigFile } from './config/load.js';
export { localTarget, findRemote, remoteTarget } from './config/targets.js';
export { scanRepository, type ScannedFile } from './project/scan.js';
export { filterFiles, findEnvironment, defaultEnvironmentName, isProductionEnvironment, guardViolations, assertProductionSafe } from './project/filter.js';
export { environmentFiles, environmentSummaries, validateEnvironments, type EnvironmentSummary, type ValidationReport } from './project/environments.js';
export { initProject, type InitOptions, type InitResult } from './project/init.js';
export type { ServeWebhooksOptions, WebhookServer } from './webhook/server.js';
export type { DeliveryLogLine } from './webhook/service.js';
export type { WebhookEvent, WebhookOutcome } from './webhook/store.js';
export type { DeployRunner, DeployRequest, DeployOutcome } from './webhook/runner.js';
export type { WebhookRoute, WebhookSettings } from './webhook/settings.js';
export type { DeployTrigger } from './history/records.js';
export type { Pool, Lease, LeaseConnection, PoolStats, ReleaseOptions, ReleaseResult, CloseOptions } from './pool/types.js';
export type { PoolStatusResult, PoolEnvironmentStatus, PoolDrainResult } from './local/pool-commands.js';
export type { FillResult, DroppedPooled, PooledDatabaseStatus } from './pool/shelf.js';

/** Where the config comes from: a loaded one, or the same search the CLI does. */
export interface ConfigSource {
  config?: DbfastConfig | undefined;
  /** Path of dbfast.toml; else DBFAST_CONFIG; else searched upward from `cwd`. */
  configPath?: string | undefined;
  cwd?: string | undefined;
  /** Environment variables for interpolation and connection settings (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
}

type With<T> = Omit<T, 'config'> & ConfigSource;

/** Reads and validates dbfast.toml (same rules as the CLI). */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<DbfastConfig> {
  const { loadConfig: load } = await import('./config/load.js');
  return load(options);
}

async function configOf(source: ConfigSource): Promise<DbfastConfig> {
  if (source.config) return source.config;
  return loadConfig({ configPath: source.configPath, cwd: source.cwd, env: source.env });
}

/** Builds the environment's template when stale (or with `force`). */
export async function build(options: With<BuildOptions> = {}): Promise<BuildResult> {
  const [config, { buildTemplate }] = await Promise.all([configOf(options), import('./local/build.js')]);
  return buildTemplate({ ...options, config });
}

/** Creates database `output` from the environment's template, building it first when stale. */
export async function seed(options: With<SeedOptions>): Promise<SeedResult> {
  const [config, module] = await Promise.all([configOf(options), import('./local/seed.js')]);
  return module.seed({ ...options, config });
}

/** Each environment's template: missing, fresh or stale, with the files that changed. */
export async function status(options: With<StatusOptions> = {}): Promise<StatusResult> {
  const [config, module] = await Promise.all([configOf(options), import('./local/status.js')]);
  return module.status({ ...options, config });
}

/** The databases dbfast made on the local server (templates, clones, leftovers). */
export async function list(options: ConfigSource = {}): Promise<ListResult> {
  const [config, module] = await Promise.all([configOf(options), import('./local/list.js')]);
  return module.list({ config });
}

/** Drops databases dbfast made; refuses (dropping nothing) when a name is not one of them. */
export async function drop(options: With<DropOptions>): Promise<DropResult> {
  const [config, module] = await Promise.all([configOf(options), import('./local/drop.js')]);
  return module.drop({ ...options, config });
}

/**
 * Starts the webhook server of `dbfast webhook serve`: deploys each pushed commit that a
 * `[[webhooks.routes]]` entry maps to a remote. Resolves once it listens; call `stop()` on the
 * result to shut it down (running deploys finish first).
 *
 * @example
 * const server = await serveWebhooks({ configPath: 'dbfast.toml', listen: '127.0.0.1:0' });
 * // POST deliveries to `${server.url}/webhook`; later:
 * await server.stop();
 */
export async function serveWebhooks(options: With<ServeWebhooksOptions>): Promise<WebhookServer> {
  const [config, module] = await Promise.all([configOf(options), import('./webhook/server.js')]);
  return module.serveWebhooks({ ...options, config, env: options.env });
}

/** The webhook deliveries recorded on the local server (`dbfast.webhook_events`), newest first. */
export async function webhookEvents(options: ConfigSource & { limit?: number | undefined }): Promise<WebhookEvent[]> {
  const [config, store, { localTarget }] = await Promise.all([configOf(options), import('./webhook/store.js'), import('./config/targets.js')]);
  return store.readWebhookEvents(localTarget(config, options.env), options.limit ?? 50);
}

/** Options of `createPool` and `lease`. */
export interface CreatePoolOptions extends ConfigSource {
  /** Environment whose template the databases are cloned from (default `local`, or the only one). */
  environment?: string | undefined;
  /** Ready databases to keep: default `[environments.NAME.pool] size`, `[pool] size`, then 1. */
  size?: number | undefined;
  /** Pooled databases the server may hold at once, counted across every pool and process on it (default `[pool] max_clones`, then 16). */
  maxClones?: number | undefined;
  /** How long `lease()` waits before it fails with POOL_TIMEOUT (default `[pool] lease_timeout_seconds`, then 60 s). */
  leaseTimeoutMs?: number | undefined;
  /** Watch the SQL files and rebuild the template when they change (default true). */
  watch?: boolean | undefined;
  logger?: Logger | undefined;
}

async function poolSettingsOf(options: CreatePoolOptions, overrides: { size?: number; watch?: boolean; handOffDrops?: boolean } = {}) {
  const [config, { poolSettings }] = await Promise.all([configOf(options), import('./local/pool-template.js')]);
  const reload = options.config ? async (): Promise<DbfastConfig> => config : (): Promise<DbfastConfig> => loadConfig({ configPath: config.configPath, env: options.env });
  return poolSettings(config, { ...options, ...overrides }, reload);
}

/**
 * A warm pool of ready clones of the environment's template, for test suites: builds the
 * template when stale, then keeps `size` databases ready on the server; `lease()` hands one out
 * (one round trip) and `release()` recycles it when provably unchanged, else drops it in the
 * background. Resolves once `size` are ready.
 *
 * @example
 * const pool = await createPool({ configPath: 'dbfast.toml', environment: 'test', size: 4 });
 * const db = await pool.lease();          // db.url connects (password included)
 * try { await runTest(db.url); } finally { await db.release(); }
 * await pool.close();
 */
export async function createPool(options: CreatePoolOptions = {}): Promise<Pool> {
  const [settings, { openPool }] = await Promise.all([poolSettingsOf(options), import('./pool/pool.js')]);
  return openPool(settings);
}

/**
 * One database from the environment's pool, for a process that needs just one (a test file in
 * its own worker): takes a ready one from the server (made by a `createPool` running elsewhere,
 * e.g. in a test runner's global setup, or by `dbfast pool fill`), or clones one when none is
 * ready. `release()` recycles or hands it back for dropping, then closes this process's sessions.
 *
 * @example
 * const db = await lease({ environment: 'test' });
 * process.env.DATABASE_URL = db.url;
 * // ... after the tests of this file:
 * await db.release();
 */
export async function lease(options: Omit<CreatePoolOptions, 'size' | 'watch'> = {}): Promise<Lease> {
  const [settings, { openPool }] = await Promise.all([poolSettingsOf(options, { size: 0, watch: false, handOffDrops: true }), import('./pool/pool.js')]);
  const pool = await openPool(settings);
  try {
    const leased = await pool.lease();
    return {
      ...leased,
      release: async (releaseOptions) => {
        try {
          return await leased.release(releaseOptions);
        } finally {
          await pool.close();
        }
      },
    };
  } catch (error) {
    await pool.close();
    throw error;
  }
}

/** The pooled databases of this project on the local server, per environment, and the server's count against max_clones. */
export async function poolStatus(options: With<PoolCommandOptions> = {}): Promise<PoolStatusResult> {
  const [config, module] = await Promise.all([configOf(options), import('./local/pool-commands.js')]);
  return module.poolStatus({ ...options, config });
}

/** Builds the template when stale, drops leftovers, and makes ready databases up to `[pool] size` (what `dbfast seed` takes). */
export async function fillPool(options: With<PoolFillOptions> = {}): Promise<FillResult> {
  const [config, module] = await Promise.all([configOf(options), import('./local/pool-commands.js')]);
  return module.fillPool({ ...options, config });
}

/** Drops the ready databases and leftovers of the project's pools (leases of running processes stay). */
export async function drainPool(options: With<PoolCommandOptions> = {}): Promise<PoolDrainResult> {
  const [config, module] = await Promise.all([configOf(options), import('./local/pool-commands.js')]);
  return module.drainPool({ ...options, config });
}
