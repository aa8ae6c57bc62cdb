/**
 * dbfast's library API, and the whole of it: the CLI calls exactly these. Each function takes a
 * loaded `config` or where to find one (`configPath`, `cwd`, `env`), returns what the CLI prints
 * with --json, and throws `DbfastError` (code, message, hint). Implementations load lazily, so
 * importing this module stays cheap (a test runner's global setup; `dbfast seed`).
 *
 * @example
 * import { seed } from 'dbfast';
 * const { url } = await seed({ configPath: 'dbfast.toml', output: `test_${process.pid}` });
 */
import type { DbfastConfig } from './config/types.js';
import type { LoadConfigOptions } from './config/load.js';
import { configOf, loadConfig as load, withModule, type ConfigSource, type With } from './config/source.js';
import { mappingFailures } from './failure/operational.js';
import type { Logger } from './logger.js';

export { DbfastError, ERRORS, isDbfastError, type DbfastErrorJson, type ErrorCode, type ExitCode } from './errors.js';
export { silentLogger, type Logger, type ProgressEvent } from './logger.js';
export { toDbfastError, operationalError, type FailureContext } from './failure/operational.js';
export { dbfastVersion } from './version.js';
export { runCleanups } from './cleanup.js';
export type { DbfastConfig, EnvironmentConfig, RemoteConfig, Runner, Compression } from './config/types.js';
export type { LoadConfigOptions } from './config/load.js';
export type { ConfigSource, With } from './config/source.js';
export { findRemote, remoteTarget } from './config/targets.js';
export { localTarget, resolveLocalConnection } from './server/managed.js';
export type { LocalConnection, LocalConnectionSource } from './config/targets.js';
export type { DbTarget } from './pg/target.js';
export { filterFiles, findEnvironment, defaultEnvironmentName, isProductionEnvironment, guardViolations, assertProductionSafe } from './project/filter.js';
export type { ScannedFile } from './project/scan.js';
export type { EnvironmentSummary } from './project/environments.js';
export type { EnvironmentListing, ValidationReport } from './local/environments.js';
export type { EnvironmentCheck } from './project/validate-env.js';
export type { InitOptions, InitResult } from './project/init.js';
export type { BuildOptions, BuildResult, LayerResult } from './local/build.js';
export type { EnvironmentStatus, LayerStatus, StatusOptions, StatusResult } from './local/status.js';
export type { TemplateManifest, CloneMetadata } from './local/manifest.js';
export type { Freshness, TemplateState } from './local/staleness.js';
export type { SeedOptions, SeedResult } from './local/seed.js';
export type { DbfastDatabase, DatabaseKind, ListResult } from './local/list.js';
export type { DropOptions, DropResult } from './local/drop.js';
export type { CloneStrategy } from './local/strategy.js';
export type { WatchOptions, WatchSession, WatchEvent, WatchingEvent, RefreshedEvent, UnchangedEvent, FailedEvent, FileChange } from './local/watch.js';
export type { RefreshedDatabase } from './local/refresh.js';
export type { NewRemote, RemoteSummary } from './config/remotes.js';
export type { RemoteChanges } from './config/remote-update.js';
export type { ConfigShow, ConfigEntry, ConfigValueSource } from './config/show.js';
export type { DoctorOptions } from './doctor/doctor.js';
export type { DoctorReport, DoctorFinding, DoctorCheck, FindingSeverity } from './doctor/types.js';
export type { AllHistoryOptions, AllHistoryResult } from './history/query.js';
export type { RemoteTestReport, TestRemoteOptions } from './validate/remote-test.js';
export type { CheckResult, CheckSeverity } from './validate/types.js';
export type { ReplacementTarget } from './remote/describe.js';
export type { DeployMode, RestoreMode } from './remote/policy.js';
export { confirmationRequired, isProductionRemote } from './remote/policy.js';
export { MAX_LIVE_NAME_BYTES } from './remote/names.js';
export type { DeployOptions, DeployReport } from './deploy/types.js';
export type { DeployPlan } from './deploy/plan.js';
export type { RemoteSetupOptions, RemoteSetupReport } from './deploy/remote-setup.js';
export type { DatabaseSetting } from './pg/db-properties.js';
export type { HealthResult } from './deploy/health.js';
export type { RollbackOptions, RollbackReport } from './deploy/rollback.js';
export type { RemoteStatusOptions, RemoteStatusReport, DeployedSummary, MigrationCounts } from './deploy/remote-status.js';
export type { HistoryOptions, HistoryResult } from './history/query.js';
export type { DeployRecord, DeployResult, DeployTrigger, HistoryKind, PhaseTiming } from './history/records.js';
export type { StatsOptions, StatsResult, RemoteStats } from './history/stats.js';
export type { CreateBackupResult } from './backup/create.js';
export type { BackupListing, ListedBackup } from './backup/list.js';
export type { VerifyResult } from './backup/verify.js';
export type { RestoreBackupOptions, RestoreBackupResult } from './backup/restore.js';
export type { PruneOptions, PruneResult } from './backup/prune.js';
export type { BackupCheckOptions, BackupCheckResult } from './backup/check.js';
export type { BackupHealth, BackupInfo, BackupSummary } from './backup/types.js';
export type { MigrateApplyOptions, MigrateApplyReport } from './migrate/apply.js';
export type { MigrateQueryOptions, MigrateHistoryOptions, MigrateStatusReport, MigrateHistoryReport, MarkAppliedOptions, MarkAppliedReport } from './migrate/query.js';
export type { MigrateVerifyOptions, MigrateVerifyReport } from './migrate/verify.js';
export type { MigrationRow } from './migrate/table.js';
export type { ServeWebhooksOptions, WebhookServer } from './webhook/server.js';
export type { DeliveryLogLine } from './webhook/service.js';
export type { WebhookEvent, WebhookOutcome } from './webhook/store.js';
export type { DeployRunner, DeployRequest, DeployOutcome } from './webhook/runner.js';
export type { WebhookRoute, WebhookSettings } from './webhook/settings.js';
export type { StartServerOptions, StartServerResult, StopServerResult } from './server/lifecycle.js';
export type { ServerStatus, ServerDatabase, PgDumpCheck } from './server/status.js';
export type { DestroyServerResult } from './server/destroy.js';
export type { ServerUrl } from './server/index.js';
export type { ManagedServer } from './server/record.js';
export type { Pool, Lease, LeaseConnection, PoolStats, ReleaseOptions, ReleaseResult, CloseOptions } from './pool/types.js';
export type { PoolCommandOptions, PoolFillOptions, PoolStatusResult, PoolEnvironmentStatus, PoolDrainResult } from './local/pool-commands.js';
export type { FillResult, DroppedPooled, PooledDatabaseStatus } from './pool/shelf.js';

/** Reads and validates dbfast.toml (`configPath`, else DBFAST_CONFIG, else upward from `cwd`); unchanged valid contents skip re-validation. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<DbfastConfig> {
  return load(options);
}

// ---- The project: init, environments ----

/** Writes a commented dbfast.toml for the numbered SQL folders found in `repoDir` (refuses to overwrite without `force`). */
export async function initProject(options: import('./project/init.js').InitOptions = {}): Promise<import('./project/init.js').InitResult> {
  return (await import('./project/init.js')).initProject(options);
}

/** Every .sql file under `root` (recursively), in natural order, with its size. */
export async function scanRepository(root: string): Promise<import('./project/scan.js').ScannedFile[]> {
  return (await import('./project/scan.js')).scanRepository(root);
}

/** Every environment with its file count and whether it is production, in the order dbfast.toml defines them. */
export async function environmentSummaries(options: ConfigSource = {}): Promise<import('./project/environments.js').EnvironmentSummary[]> {
  return withModule(options, () => import('./project/environments.js'), (module, config) => module.environmentSummaries(config));
}

/** One environment's files in the order they run, the files they include (`\i` / `\ir`), and how many the production guard would refuse. */
export async function showEnvironment(options: ConfigSource & { name: string }): Promise<import('./local/environments.js').EnvironmentListing> {
  return withModule(options, () => import('./local/environments.js'), (module, config) => module.showEnvironment(config, options.name));
}

/** Checks one environment (`name`) or all: missing folders, no files, the production guard. */
export async function validateEnvironments(options: ConfigSource & { name?: string | undefined } = {}): Promise<import('./local/environments.js').ValidationReport> {
  return withModule(options, () => import('./local/environments.js'), (module, config) => module.validateEnvironments(config, options.name));
}

// ---- Templates and clones on the local server ----

/** Builds the environment's template when stale (or with `force`). */
export async function build(options: With<import('./local/build.js').BuildOptions> = {}): Promise<import('./local/build.js').BuildResult> {
  return withModule(options, () => import('./local/build.js'), (module, config) => module.buildTemplate({ ...options, config }));
}

/** Creates database `output` from the environment's template, building it first when stale. */
export async function seed(options: With<import('./local/seed.js').SeedOptions>): Promise<import('./local/seed.js').SeedResult> {
  return withModule(options, () => import('./local/seed.js'), (module, config) => module.seed({ ...options, config }));
}

/**
 * Watches the environment's files and keeps its template and the `outputs` databases in step
 * (`dbfast watch`). Resolves once the initial cycle is done and events are being taken; every
 * cycle then calls `onEvent` once. `close()` stops it.
 *
 * @example
 * const session = await watch({ outputs: ['app_dev'], onEvent: (event) => console.log(event.type) });
 * process.once('SIGINT', () => void session.close());
 */
export async function watch(options: With<import('./local/watch.js').WatchOptions>): Promise<import('./local/watch.js').WatchSession> {
  return withModule(options, () => import('./local/watch.js'), (module, config) => module.watchEnvironment({ ...options, config }));
}

/** Each environment's template: missing, fresh or stale, with the files that changed. */
export async function status(options: With<import('./local/status.js').StatusOptions> = {}): Promise<import('./local/status.js').StatusResult> {
  return withModule(options, () => import('./local/status.js'), (module, config) => module.status({ ...options, config }));
}

/** The databases dbfast made on the local server (templates, clones, leftovers). */
export async function list(options: ConfigSource = {}): Promise<import('./local/list.js').ListResult> {
  return withModule(options, () => import('./local/list.js'), (module, config) => module.list({ config }));
}

/** Drops databases dbfast made; refuses (dropping nothing) when a name is not one of them. */
export async function drop(options: With<import('./local/drop.js').DropOptions>): Promise<import('./local/drop.js').DropResult> {
  return withModule(options, () => import('./local/drop.js'), (module, config) => module.drop({ ...options, config }));
}

/**
 * The detached clean-up worker (`dbfast __background`, which dbfast starts itself after a command
 * has answered): drops replaced templates and leftovers, makes layer templates. Reads its job
 * from the environment dbfast gave it; returns the exit code.
 */
export async function runBackgroundWorker(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return (await import('./local/background.js')).backgroundMain(env);
}

// ---- Remotes ----

/** The remotes of dbfast.toml, passwords masked. */
export async function listRemotes(options: ConfigSource = {}): Promise<import('./config/remotes.js').RemoteSummary[]> {
  return withModule(options, () => import('./config/remotes.js'), (module, config) => module.listRemotes(config));
}

/** Adds `[remotes.NAME]` to dbfast.toml (comments kept), checked by the same rules as a loaded one; returns it (password masked) and what the rules warn about. */
export async function addRemote(options: ConfigSource & import('./config/remotes.js').NewRemote): Promise<{ remote: import('./config/remotes.js').RemoteSummary; warnings: string[] }> {
  return withModule(options, () => import('./config/remotes.js'), (module, config) => {
    const added = module.addRemote(config, options);
    return { remote: module.summarizeRemote(added.remote), warnings: added.warnings };
  });
}

/**
 * Changes keys of one remote in dbfast.toml, editing only those lines of its table (comments and
 * everything else kept byte for byte), checked as `addRemote` checks; returns the remote, password masked.
 *
 * @example
 * await updateRemote({ configPath: 'dbfast.toml', name: 'staging', changes: { url: 'postgresql://app@db2/shop', noOwner: true } });
 */
export async function updateRemote(options: ConfigSource & { name: string; changes: import('./config/remote-update.js').RemoteChanges }): Promise<{ remote: import('./config/remotes.js').RemoteSummary; changed: string[] }> {
  return withModule(options, () => Promise.all([import('./config/remote-update.js'), import('./config/remotes.js')]), ([update, remotes], config) => {
    const result = update.updateRemote(config, options.name, options.changes, options.env ? { env: options.env } : {});
    return { remote: remotes.summarizeRemote(result.remote), changed: result.changed };
  });
}

/** The effective configuration, setting by setting, with where each value came from (file key, environment variable, default); passwords masked. */
export async function showConfig(options: ConfigSource = {}): Promise<import('./config/show.js').ConfigShow> {
  return withModule(options, () => import('./config/show.js'), (module, config) => module.showConfig(config, options.env));
}

/** Removes `[remotes.NAME]` from dbfast.toml. */
export async function removeRemote(options: ConfigSource & { name: string }): Promise<void> {
  return withModule(options, () => import('./config/remotes.js'), (module, config) => module.removeRemote(config, options.name));
}

/** Connects to a remote and reports version, privileges, tools, TLS and latency; `ok` is false when something needed is missing. */
export async function testRemote(options: ConfigSource & { remote: string }): Promise<import('./validate/remote-test.js').RemoteTestReport> {
  return withModule(options, () => Promise.all([import('./validate/remote-test.js'), import('./config/targets.js')]), ([module, targets], config) =>
    module.testRemote(config, targets.findRemote(config, options.remote), options.env ? { env: options.env } : {}),
  );
}

/**
 * What a run on the remote would replace (its server, database and current size), read-only:
 * what a confirmation prompt shows before `confirmed: true` is passed to `deploy`,
 * `restoreBackup`, `rollback` or `migrateApply`. A database that cannot be reached comes back
 * with `sizeBytes: null`.
 *
 * @example
 * const target = await describeReplacement({ configPath: 'dbfast.toml', remote: 'production' });
 * // { remote: 'production', environment: 'production', server: 'db.example.com:5432', database: 'shop', sizeBytes: 1288490188 }
 */
export async function describeReplacement(options: ConfigSource & { remote: string }): Promise<import('./remote/describe.js').ReplacementTarget> {
  return withModule(options, () => import('./remote/describe.js'), (module, config) => module.describeReplacement(config, options.remote, options.env));
}

// ---- Deploys, rollbacks, history ----

/**
 * Deploys a remote's environment: its template replaces the remote database (side database,
 * checks, swap; the previous one kept for `rollback`), or, where the database may not be
 * replaced, its pending migrations are applied. Production needs `confirmed: true`; without it
 * the call throws CONFIRMATION_REQUIRED before connecting anywhere.
 *
 * @example
 * const report = await deploy({ configPath: 'dbfast.toml', remote: 'staging', confirmed: true });
 * // report = { remote, environment, database, backupId, mode, previous, phases, durationMs, ... }
 */
export async function deploy(options: With<import('./deploy/types.js').DeployOptions>): Promise<import('./deploy/types.js').DeployReport> {
  return withModule(options, () => import('./deploy/deploy.js'), (module, config) => module.deploy({ ...options, config }));
}

/**
 * Runs the repository's `[repository] cluster_setup` files (roles, role memberships: what acts
 * on the whole server and so never travels in a deploy) on a remote, in its maintenance
 * database; idempotent like the local run before a build (skipped when it already ran there and
 * the roles it creates exist, unless `force`). Needs CREATEROLE (PERMISSION_DENIED names it and
 * the ALTER ROLE to run); production remotes need `confirmed: true` (CONFIRMATION_REQUIRED
 * before connecting). `dryRun: true` reports the files, the roles and which are missing, and
 * changes nothing.
 *
 * @example
 * const report = await remoteSetup({ configPath: 'dbfast.toml', remote: 'staging' });
 * // { remote: 'staging', files: ['0_setup/002_roles.sql'], roles: ['authenticator'], missingRoles: ['authenticator'], ran: true, ... }
 */
export async function remoteSetup(options: With<import('./deploy/remote-setup.js').RemoteSetupOptions>): Promise<import('./deploy/remote-setup.js').RemoteSetupReport> {
  return withModule(options, () => import('./deploy/remote-setup.js'), (module, config) => module.remoteSetup({ ...options, config }));
}

/** Swaps the previous database back in (`to` omitted or `previous`), or restores a backup (`to`: its id). */
export async function rollback(options: With<import('./deploy/rollback.js').RollbackOptions>): Promise<import('./deploy/rollback.js').RollbackReport> {
  return withModule(options, () => import('./deploy/rollback.js'), (module, config) => module.rollback({ ...options, config }));
}

/** Deploys, rollbacks and restores of a remote, newest first (its own history, else this machine's). */
export async function history(options: With<import('./history/query.js').HistoryOptions>): Promise<import('./history/query.js').HistoryResult> {
  return withModule(options, () => import('./history/query.js'), (module, config) => module.deployHistory({ ...options, config }));
}

/** Every remote's deploys, rollbacks and restores merged newest first (each read as `history` reads it). */
export async function historyAllRemotes(options: With<import('./history/query.js').AllHistoryOptions> = {}): Promise<import('./history/query.js').AllHistoryResult> {
  return withModule(options, () => import('./history/query.js'), (module, config) => module.allRemotesHistory({ ...options, config }));
}

/** Deploy statistics per remote: success rate, durations, last success and failure. */
export async function stats(options: With<import('./history/stats.js').StatsOptions> = {}): Promise<import('./history/stats.js').StatsResult> {
  return withModule(options, () => import('./history/stats.js'), (module, config) => module.deployStats({ ...options, config }));
}

/** What is live on a remote and whether it is well (connection, history, migrations, backup, health). Reads only. */
export async function remoteStatus(options: With<import('./deploy/remote-status.js').RemoteStatusOptions>): Promise<import('./deploy/remote-status.js').RemoteStatusReport> {
  return withModule(options, () => import('./deploy/remote-status.js'), (module, config) => module.remoteStatus({ ...options, config }));
}

// ---- Backups ----

/** Which remote's backups, and where to say what happens. */
export interface BackupOptions extends ConfigSource {
  remote: string;
  logger?: Logger | undefined;
}

/** `withModule` for the backup functions, which take the remote's backup scope. */
async function withBackupScope<M, R>(options: BackupOptions, load: () => Promise<M>, call: (module: M, scope: import('./backup/scope.js').BackupScope) => Promise<R>): Promise<R> {
  return mappingFailures(async () => {
    const [config, { backupScope }, module] = await Promise.all([configOf(options), import('./backup/scope.js'), load()]);
    return call(module, backupScope(config, options.remote, { ...(options.logger ? { logger: options.logger } : {}), ...(options.env ? { env: options.env } : {}) }));
  });
}

/**
 * Backs up a remote (pg_dump, compressed, read back in full before it is listed), then applies
 * retention. A table locked by another session makes pg_dump wait, saying who holds it; with
 * `lockTimeoutMs` it gives up after that long with LOCK_TIMEOUT naming the holder.
 */
export async function createBackup(options: BackupOptions & { compression?: import('./config/types.js').Compression | undefined; lockTimeoutMs?: number | undefined }): Promise<import('./backup/create.js').CreateBackupResult & { summary: import('./backup/types.js').BackupSummary }> {
  return withBackupScope(options, () => Promise.all([import('./backup/create.js'), import('./backup/list.js')]), async ([create, list], scope) => {
    const result = await create.createBackup(scope, { ...(options.compression ? { compression: options.compression } : {}), lockTimeoutMs: options.lockTimeoutMs });
    return { ...result, summary: list.summarize(scope, result.backup) };
  });
}

/** A remote's backups, newest first, each with its health and where it is; where the store is; and what in it is not a backup. */
export async function listBackups(options: BackupOptions): Promise<{ backups: import('./backup/list.js').ListedBackup[]; warnings: string[]; location: string }> {
  return withBackupScope(options, () => import('./backup/list.js'), (module, scope) => module.listBackupEntries(scope));
}

/** Verifies one backup (`backupId`, or `latest`) or every one: size, sha256, readability; `restoreTest` restores it into a scratch database too. */
export async function verifyBackup(options: BackupOptions & { backupId?: string | undefined; restoreTest?: boolean | undefined }): Promise<import('./backup/verify.js').VerifyResult[]> {
  const verifyOptions = { restoreTest: options.restoreTest === true };
  return withBackupScope(options, () => import('./backup/verify.js'), async (module, scope) =>
    options.backupId ? [await module.verifyBackup(scope, options.backupId, verifyOptions)] : module.verifyAllBackups(scope, verifyOptions),
  );
}

/** Restores a backup over the remote's database (verified first; side database and swap, else in place in one transaction). Production needs `confirmed`. */
export async function restoreBackup(options: With<import('./backup/restore.js').RestoreBackupOptions>): Promise<import('./backup/restore.js').RestoreBackupResult> {
  return withModule(options, () => import('./backup/restore.js'), (module, config) => module.restoreBackup({ ...options, config }));
}

/** Deletes old backups by the retention rules (never the newest restorable one); only lists them without `confirm`. */
export async function pruneBackups(options: BackupOptions & import('./backup/prune.js').PruneOptions): Promise<import('./backup/prune.js').PruneResult> {
  return withBackupScope(options, () => import('./backup/prune.js'), (module, scope) => module.pruneBackups(scope, options));
}

/** Whether the newest verified backup is younger than `maxAge` (`24h`, `2d`): `ok` false otherwise, or when there is none. */
export async function checkBackups(options: BackupOptions & import('./backup/check.js').BackupCheckOptions): Promise<import('./backup/check.js').BackupCheckResult> {
  return withBackupScope(options, () => import('./backup/check.js'), (module, scope) => module.checkBackups(scope, options));
}

// ---- Migrations ----

/** The repository's migrations against the remote's records: applied, pending, drifted, missing, failed. */
export async function migrateStatus(options: With<import('./migrate/query.js').MigrateQueryOptions>): Promise<import('./migrate/query.js').MigrateStatusReport> {
  return withModule(options, () => import('./migrate/query.js'), (module, config) => module.migrateStatus({ ...options, config }));
}

/** Applies pending migrations (backup first, each in its own transaction); `dryRun` lists them. Production needs `confirmed`. */
export async function migrateApply(options: With<import('./migrate/apply.js').MigrateApplyOptions>): Promise<import('./migrate/apply.js').MigrateApplyReport> {
  return withModule(options, () => import('./migrate/apply.js'), (module, config) => module.migrateApply({ ...options, config }));
}

/** Records migrations as applied without running them (a baseline). Production needs `confirmed`. */
export async function markApplied(options: With<import('./migrate/query.js').MarkAppliedOptions>): Promise<import('./migrate/query.js').MarkAppliedReport> {
  return withModule(options, () => import('./migrate/query.js'), (module, config) => module.markApplied({ ...options, config }));
}

/** The migrations recorded on the remote, oldest first (`limit`: only the newest that many). */
export async function migrateHistory(options: With<import('./migrate/query.js').MigrateHistoryOptions>): Promise<import('./migrate/query.js').MigrateHistoryReport> {
  return withModule(options, () => import('./migrate/query.js'), (module, config) => module.migrateHistory({ ...options, config }));
}

/** The remote's schema against the environment's template, object by object. */
export async function migrateVerify(options: With<import('./migrate/verify.js').MigrateVerifyOptions>): Promise<import('./migrate/verify.js').MigrateVerifyReport> {
  return withModule(options, () => import('./migrate/verify.js'), (module, config) => module.migrateVerify({ ...options, config }));
}

// ---- Webhooks ----

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
export async function serveWebhooks(options: With<import('./webhook/server.js').ServeWebhooksOptions>): Promise<import('./webhook/server.js').WebhookServer> {
  return withModule(options, () => import('./webhook/server.js'), (module, config) => module.serveWebhooks({ ...options, config, env: options.env }));
}

/** The webhook deliveries recorded on the local server (`dbfast.webhook_events`), newest first. */
export async function webhookEvents(options: ConfigSource & { limit?: number | undefined }): Promise<import('./webhook/store.js').WebhookEvent[]> {
  return withModule(options, () => Promise.all([import('./webhook/store.js'), import('./server/managed.js')]), async ([store, managed], config) =>
    store.readWebhookEvents(await managed.localTarget(config, options.env), options.limit ?? 50),
  );
}

// ---- Diagnosis ----

/**
 * Checks what usually goes wrong and says how to fix each: the config, the local server, client
 * tools against each server's version, leftover and stray databases, stale templates, backup
 * folders, each remote's last backup and reachability. Reads only; `ok` is false when a finding
 * is a problem (the CLI exits 3).
 *
 * @example
 * const report = await doctor({ configPath: 'dbfast.toml', maxBackupAge: '24h' });
 * for (const finding of report.findings) console.log(finding.code, finding.message, finding.fix);
 */
export async function doctor(options: import('./doctor/doctor.js').DoctorOptions = {}): Promise<import('./doctor/types.js').DoctorReport> {
  return (await import('./doctor/doctor.js')).doctor(options);
}

// ---- The managed local server ----

/** Where the managed server lives is read from `env` (DBFAST_SERVER_DIR, XDG_DATA_HOME, HOME; default process.env). */
export interface ServerCommandOptions {
  env?: NodeJS.ProcessEnv | undefined;
  logger?: Logger | undefined;
}

/**
 * Starts dbfast's managed local PostgreSQL (initdb on first use), or finds it running. Commands
 * start it by themselves when no local database is configured; this is `dbfast server start`.
 */
export async function startServer(options: import('./server/lifecycle.js').StartServerOptions = {}): Promise<import('./server/lifecycle.js').StartServerResult> {
  return (await import('./server/lifecycle.js')).startManagedServer(options);
}

/** Stops the managed server (fast shutdown: open sessions are ended). */
export async function stopServer(options: ServerCommandOptions = {}): Promise<import('./server/lifecycle.js').StopServerResult> {
  return (await import('./server/lifecycle.js')).stopManagedServer(options);
}

/** Version, binaries, port, socket, data folder, size, uptime and dbfast's databases; never starts anything. */
export async function serverStatus(options: ServerCommandOptions = {}): Promise<import('./server/status.js').ServerStatus> {
  return (await import('./server/status.js')).serverStatus(options);
}

/** Connection URLs of the managed server (started first when it is not running). */
export async function serverUrl(options: ServerCommandOptions & { database?: string } = {}): Promise<import('./server/index.js').ServerUrl> {
  return (await import('./server/index.js')).serverUrl(options);
}

/** The last lines of the managed server's log. */
export async function serverLogs(options: ServerCommandOptions & { lines?: number } = {}): Promise<{ logFile: string | null; lines: string[] }> {
  return (await import('./server/destroy.js')).serverLogs(options);
}

/** Stops the managed server and deletes it with every database on it; refuses without `confirmed`. */
export async function destroyServer(options: ServerCommandOptions & { confirmed: boolean }): Promise<import('./server/destroy.js').DestroyServerResult> {
  return (await import('./server/destroy.js')).destroyManagedServer(options);
}

// ---- The warm pool: ready clones for test suites and `dbfast seed` ----

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

async function openPoolOf(options: CreatePoolOptions, overrides: { size?: number; watch?: boolean; handOffDrops?: boolean } = {}): Promise<import('./pool/types.js').Pool> {
  const [config, { poolSettings }, { openPool }] = await Promise.all([configOf(options), import('./local/pool-template.js'), import('./pool/pool.js')]);
  // A config given in memory is the config; one read from a file is read again when it changes.
  const reload = options.config ? async (): Promise<DbfastConfig> => config : (): Promise<DbfastConfig> => loadConfig({ configPath: config.configPath, env: options.env });
  return openPool(await poolSettings(config, { ...options, ...overrides }, reload));
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
export async function createPool(options: CreatePoolOptions = {}): Promise<import('./pool/types.js').Pool> {
  return openPoolOf(options);
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
export async function lease(options: Omit<CreatePoolOptions, 'size' | 'watch'> = {}): Promise<import('./pool/types.js').Lease> {
  const pool = await openPoolOf(options, { size: 0, watch: false, handOffDrops: true });
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
export async function poolStatus(options: With<import('./local/pool-commands.js').PoolCommandOptions> = {}): Promise<import('./local/pool-commands.js').PoolStatusResult> {
  return withModule(options, () => import('./local/pool-commands.js'), (module, config) => module.poolStatus({ ...options, config }));
}

/** Builds the template when stale, drops leftovers, and makes ready databases up to `[pool] size` (what `dbfast seed` takes). */
export async function fillPool(options: With<import('./local/pool-commands.js').PoolFillOptions> = {}): Promise<import('./pool/shelf.js').FillResult> {
  return withModule(options, () => import('./local/pool-commands.js'), (module, config) => module.fillPool({ ...options, config }));
}

/** Drops the ready databases and leftovers of the project's pools (leases of running processes stay). */
export async function drainPool(options: With<import('./local/pool-commands.js').PoolCommandOptions> = {}): Promise<import('./local/pool-commands.js').PoolDrainResult> {
  return withModule(options, () => import('./local/pool-commands.js'), (module, config) => module.drainPool({ ...options, config }));
}

/**
 * After a seed: starts `dbfast pool fill` for the environment as a detached process (its output in
 * .dbfast/pool-fill.log next to dbfast.toml), so a ready database waits for the next seed. Off when
 * the environment's pool size is 0. Returns whether one started; never throws.
 */
export async function startPoolRefill(options: import('./pool/background-fill.js').BackgroundFillOptions): Promise<boolean> {
  return (await import('./pool/background-fill.js')).startPoolRefill(options);
}
