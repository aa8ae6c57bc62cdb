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

// The functions, grouped by what they act on; each file under src/api/ documents its own (TSDoc on
// every function) and loads its implementation lazily, so importing this module stays cheap.

/** The project: dbfast.toml, its remotes' tables, the repository's environments, and `doctor` over all of it. */
export { loadConfig, initProject, scanRepository, environmentSummaries, showEnvironment, validateEnvironments, listRemotes, addRemote, updateRemote, showConfig, removeRemote, doctor } from './api/project.js';

/** Templates and clones on the local server, the detached clean-up worker, and the managed local PostgreSQL. */
export { build, seed, watch, status, list, drop, runBackgroundWorker, startServer, stopServer, serverStatus, serverUrl, serverLogs, destroyServer, type ServerCommandOptions } from './api/local.js';

/** The warm pool of ready clones: for test suites (`createPool`, `lease`) and `dbfast pool`. */
export { createPool, lease, poolStatus, fillPool, drainPool, startPoolRefill, type CreatePoolOptions } from './api/pool.js';

/** Remotes: reaching one, what a run would replace, deploys, rollbacks, history, migrations, and the webhook server. */
export { testRemote, describeReplacement, deploy, remoteSetup, rollback, history, historyAllRemotes, stats, remoteStatus, migrateStatus, migrateApply, markApplied, migrateHistory, migrateVerify, serveWebhooks, webhookEvents } from './api/remote.js';

/** A remote's backups: create, list, verify, restore, prune, check. */
export { createBackup, listBackups, verifyBackup, restoreBackup, pruneBackups, checkBackups, type BackupOptions } from './api/backup.js';
