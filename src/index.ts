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
import type { Logger } from './logger.js';
import type { ServeWebhooksOptions, WebhookServer } from './webhook/server.js';
import type { WebhookEvent } from './webhook/store.js';
import type { StartServerOptions, StartServerResult, StopServerResult } from './server/lifecycle.js';
import type { ServerStatus } from './server/status.js';
import type { DestroyServerResult } from './server/destroy.js';
import type { ServerUrl } from './server/index.js';

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

/** Reads and validates dbfast.toml (same rules as the CLI). */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<DbfastConfig> {
  const { loadConfig: load } = await import('./config/load.js');
  return load(options);
}

async function configOf(source: ConfigSource): Promise<DbfastConfig> {
  if (source.config) return source.config;
  return loadConfig({ configPath: source.configPath, cwd: source.cwd, env: source.env });
}

/** Loads the config and the implementing module side by side, then calls it. */
async function withModule<M, R>(source: ConfigSource, load: () => Promise<M>, call: (module: M, config: DbfastConfig) => Promise<R>): Promise<R> {
  const [config, module] = await Promise.all([configOf(source), load()]);
  return call(module, config);
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

// ---- Remote databases: deploy, rollback, history, backups, migrations ----

export type { DeployOptions, DeployReport } from './deploy/types.js';
export type { DeployPlan } from './deploy/plan.js';
export type { HealthResult } from './deploy/health.js';
export type { RollbackOptions, RollbackReport } from './deploy/rollback.js';
export type { RemoteStatusOptions, RemoteStatusReport, DeployedSummary, MigrationCounts } from './deploy/remote-status.js';
export type { HistoryOptions, HistoryResult } from './history/query.js';
export type { DeployRecord, DeployResult, HistoryKind, PhaseTiming } from './history/records.js';
export type { StatsOptions, StatsResult, RemoteStats } from './history/stats.js';
export type { RestoreBackupOptions, RestoreBackupResult } from './backup/restore.js';
export type { CreateBackupResult } from './backup/create.js';
export type { BackupListing } from './backup/list.js';
export type { VerifyResult } from './backup/verify.js';
export type { PruneOptions, PruneResult } from './backup/prune.js';
export type { BackupInfo, BackupSummary } from './backup/types.js';
export type { MigrateApplyOptions, MigrateApplyReport } from './migrate/apply.js';
export type { MigrateQueryOptions, MigrateStatusReport, MigrateHistoryReport, MarkAppliedOptions, MarkAppliedReport } from './migrate/query.js';
export type { MigrateVerifyOptions, MigrateVerifyReport } from './migrate/verify.js';
export type { MigrationRow } from './migrate/table.js';
export type { DeployMode, RestoreMode } from './remote/policy.js';
export { confirmationRequired, isProductionRemote } from './remote/policy.js';
export { MAX_LIVE_NAME_BYTES } from './remote/names.js';

/**
 * Deploys a remote's environment: its template replaces the remote database (side database,
 * checks, swap; the previous one kept for `rollback`), or, where the database may not be
 * replaced, its pending migrations are applied. Production needs `confirmed: true`.
 *
 * @example
 * const report = await deploy({ configPath: 'dbfast.toml', remote: 'staging', confirmed: true });
 * // report = { remote, environment, database, backupId, mode, previous, phases, durationMs, ... }
 */
export async function deploy(options: With<import('./deploy/types.js').DeployOptions>): Promise<import('./deploy/types.js').DeployReport> {
  return withModule(options, () => import('./deploy/deploy.js'), (module, config) => module.deploy({ ...options, config }));
}

/** Swaps the previous database back in (`to` omitted), or restores a backup (`to`: its id or `latest`). */
export async function rollback(options: With<import('./deploy/rollback.js').RollbackOptions>): Promise<import('./deploy/rollback.js').RollbackReport> {
  return withModule(options, () => import('./deploy/rollback.js'), (module, config) => module.rollback({ ...options, config }));
}

/** Deploys, rollbacks, restores and migration runs of a remote, newest first (its own history, else this machine's). */
export async function history(options: With<import('./history/query.js').HistoryOptions>): Promise<import('./history/query.js').HistoryResult> {
  return withModule(options, () => import('./history/query.js'), (module, config) => module.deployHistory({ ...options, config }));
}

/** Deploy statistics per remote: success rate, durations, last success and failure. */
export async function stats(options: With<import('./history/stats.js').StatsOptions> = {}): Promise<import('./history/stats.js').StatsResult> {
  return withModule(options, () => import('./history/stats.js'), (module, config) => module.deployStats({ ...options, config }));
}

/** What is live on a remote and whether it is well (connection, history, migrations, backup, health). Reads only. */
export async function remoteStatus(options: With<import('./deploy/remote-status.js').RemoteStatusOptions>): Promise<import('./deploy/remote-status.js').RemoteStatusReport> {
  return withModule(options, () => import('./deploy/remote-status.js'), (module, config) => module.remoteStatus({ ...options, config }));
}

/** Which remote's backups, and where to say what happens. */
export interface BackupOptions extends ConfigSource {
  remote: string;
  logger?: Logger | undefined;
}

/** `withModule` for the backup functions, which take the remote's backup scope. */
async function withBackupScope<M, R>(options: BackupOptions, load: () => Promise<M>, call: (module: M, scope: import('./backup/scope.js').BackupScope) => Promise<R>): Promise<R> {
  const [config, { backupScope }, module] = await Promise.all([configOf(options), import('./backup/scope.js'), load()]);
  return call(module, backupScope(config, options.remote, { ...(options.logger ? { logger: options.logger } : {}), ...(options.env ? { env: options.env } : {}) }));
}

/** Backs up a remote (pg_dump, compressed, read back in full before it is listed). */
export async function createBackup(options: BackupOptions & { compression?: import('./config/types.js').Compression | undefined }): Promise<import('./backup/create.js').CreateBackupResult> {
  return withBackupScope(options, () => import('./backup/create.js'), (module, scope) => module.createBackup(scope, options.compression ? { compression: options.compression } : {}));
}

/** A remote's backups, newest first, and what in its folder is not a backup. */
export async function listBackups(options: BackupOptions): Promise<import('./backup/list.js').BackupListing> {
  return withBackupScope(options, () => import('./backup/list.js'), (module, scope) => module.listBackups(scope));
}

/** Verifies one backup (`backupId`) or every one: size, sha256, readability; `restoreTest` restores it into a scratch database too. */
export async function verifyBackup(options: BackupOptions & { backupId?: string | undefined; restoreTest?: boolean | undefined }): Promise<import('./backup/verify.js').VerifyResult[]> {
  const verifyOptions = { restoreTest: options.restoreTest === true };
  return withBackupScope(options, () => import('./backup/verify.js'), async (module, scope) =>
    options.backupId ? [await module.verifyBackup(scope, options.backupId, verifyOptions)] : module.verifyAllBackups(scope, verifyOptions),
  );
}

/** Restores a backup (of this remote, or of `fromRemote`) over the remote's database; recorded in its history. */
export async function restoreBackup(options: With<import('./backup/restore.js').RestoreBackupOptions>): Promise<import('./backup/restore.js').RestoreBackupResult> {
  return withModule(options, () => import('./backup/restore.js'), (module, config) => module.restoreBackup({ ...options, config }));
}

/** Deletes old backups (keeping the newest, and the newest verified); only lists them without `confirm`. */
export async function pruneBackups(options: BackupOptions & import('./backup/prune.js').PruneOptions): Promise<import('./backup/prune.js').PruneResult> {
  return withBackupScope(options, () => import('./backup/prune.js'), (module, scope) => module.pruneBackups(scope, options));
}

/** The repository's migrations against the remote's records: applied, pending, drifted, missing, failed. */
export async function migrateStatus(options: With<import('./migrate/query.js').MigrateQueryOptions>): Promise<import('./migrate/query.js').MigrateStatusReport> {
  return withModule(options, () => import('./migrate/query.js'), (module, config) => module.migrateStatus({ ...options, config }));
}

/** Applies pending migrations (backup first, each in its own transaction); `dryRun` lists them. */
export async function migrateApply(options: With<import('./migrate/apply.js').MigrateApplyOptions>): Promise<import('./migrate/apply.js').MigrateApplyReport> {
  return withModule(options, () => import('./migrate/apply.js'), (module, config) => module.migrateApply({ ...options, config }));
}

/** Records migrations as applied without running them (a baseline). */
export async function markApplied(options: With<import('./migrate/query.js').MarkAppliedOptions>): Promise<import('./migrate/query.js').MarkAppliedReport> {
  return withModule(options, () => import('./migrate/query.js'), (module, config) => module.markApplied({ ...options, config }));
}

/** Every migration recorded on the remote, oldest first. */
export async function migrateHistory(options: With<import('./migrate/query.js').MigrateQueryOptions>): Promise<import('./migrate/query.js').MigrateHistoryReport> {
  return withModule(options, () => import('./migrate/query.js'), (module, config) => module.migrateHistory({ ...options, config }));
}

/** The remote's schema against the environment's template, object by object. */
export async function migrateVerify(options: With<import('./migrate/verify.js').MigrateVerifyOptions>): Promise<import('./migrate/verify.js').MigrateVerifyReport> {
  return withModule(options, () => import('./migrate/verify.js'), (module, config) => module.migrateVerify({ ...options, config }));
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
