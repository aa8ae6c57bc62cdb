/**
 * dbfast's library API: the CLI calls exactly these. Each function takes either a loaded
 * `config` or where to find one (`configPath`, `cwd`, `env`, as the CLI would), and returns the
 * same result object the CLI prints with --json. Implementations load lazily, so importing this
 * module stays cheap for a test runner's global setup.
 */
import type { DbfastConfig } from './config/types.js';
import type { LoadConfigOptions } from './config/read.js';
import type { BuildOptions, BuildResult } from './local/build.js';
import type { StatusOptions, StatusResult } from './local/status.js';
import type { SeedOptions, SeedResult } from './local/seed.js';
import type { ListResult } from './local/list.js';
import type { DropOptions, DropResult } from './local/drop.js';
import type { ServeWebhooksOptions, WebhookServer } from './webhook/server.js';
import type { WebhookEvent } from './webhook/store.js';
import type { StartServerOptions, StartServerResult, StopServerResult } from './server/lifecycle.js';
import type { ServerStatus } from './server/status.js';
import type { DestroyServerResult } from './server/destroy.js';
import type { ServerUrl } from './server/index.js';
import type { Logger } from './logger.js';

export { DbfastError, ERRORS, isDbfastError, type DbfastErrorJson, type ErrorCode, type ExitCode } from './errors.js';
export { silentLogger, type Logger, type ProgressEvent } from './logger.js';
export type { DbfastConfig, EnvironmentConfig, RemoteConfig, Runner } from './config/types.js';
export type { BuildResult } from './local/build.js';
export type { EnvironmentStatus, StatusResult } from './local/status.js';
export type { TemplateManifest, CloneMetadata } from './local/manifest.js';
export type { Freshness, TemplateState } from './local/staleness.js';
export type { SeedResult } from './local/seed.js';
export type { DbfastDatabase, DatabaseKind, ListResult } from './local/list.js';
export type { DropResult } from './local/drop.js';
export type { CloneStrategy } from './local/strategy.js';
export type { LoadConfigOptions } from './config/read.js';
export { findConfigFile } from './config/read.js';
export { localTarget, findRemote, remoteTarget, resolveLocalConnection, type LocalConnection, type LocalConnectionSource } from './config/targets.js';
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
export type { StartServerOptions, StartServerResult, StopServerResult } from './server/lifecycle.js';
export type { ServerStatus, ServerDatabase, PgDumpCheck } from './server/status.js';
export type { DestroyServerResult } from './server/destroy.js';
export type { ServerUrl } from './server/index.js';
export type { ManagedServer } from './server/record.js';

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

/** Reads and validates dbfast.toml (the loader the CLI uses). */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<DbfastConfig> {
  const { loadConfigLazily } = await import('./config/read.js');
  return loadConfigLazily(options);
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
  return store.readWebhookEvents(await localTarget(config, options.env), options.limit ?? 50);
}

/** Where the managed server lives is read from `env` (DBFAST_SERVER_DIR, XDG_DATA_HOME, HOME; default process.env). */
export interface ServerCommandOptions {
  env?: NodeJS.ProcessEnv | undefined;
  logger?: Logger | undefined;
}

/**
 * Starts dbfast's managed local PostgreSQL (initdb on first use), or finds it running. Commands
 * start it by themselves when no local database is configured; this is `dbfast server start`.
 */
export async function startServer(options: StartServerOptions = {}): Promise<StartServerResult> {
  const { startManagedServer } = await import('./server/lifecycle.js');
  return startManagedServer(options);
}

/** Stops the managed server (fast shutdown: open sessions are ended). */
export async function stopServer(options: ServerCommandOptions = {}): Promise<StopServerResult> {
  const { stopManagedServer } = await import('./server/lifecycle.js');
  return stopManagedServer(options);
}

/** Version, binaries, port, socket, data folder, size, uptime and dbfast's databases; never starts anything. */
export async function serverStatus(options: ServerCommandOptions = {}): Promise<ServerStatus> {
  const module = await import('./server/status.js');
  return module.serverStatus(options);
}

/** Connection URLs of the managed server (started first when it is not running). */
export async function serverUrl(options: ServerCommandOptions & { database?: string } = {}): Promise<ServerUrl> {
  const module = await import('./server/index.js');
  return module.serverUrl(options);
}

/** The last lines of the managed server's log. */
export async function serverLogs(options: ServerCommandOptions & { lines?: number } = {}): Promise<{ logFile: string | null; lines: string[] }> {
  const module = await import('./server/destroy.js');
  return module.serverLogs(options);
}

/** Stops the managed server and deletes it with every database on it; refuses without `confirmed`. */
export async function destroyServer(options: ServerCommandOptions & { confirmed: boolean }): Promise<DestroyServerResult> {
  const { destroyManagedServer } = await import('./server/destroy.js');
  return destroyManagedServer(options);
}
