/**
 * Migrations on live databases. A migration is a file of the environment's
 * `migration_directories` (default `6_migration`), identified by its path relative to the
 * repository and run in the scanner's order. `dbfast.migrations` on the remote records each one
 * (sha256, when, who, how long, success / failed / rolled_back / baseline); it lives in the
 * dbfast schema, so swaps and restores carry it over and backups leave it out.
 *
 * Error codes: MIGRATION_FAILED (details: migration, sql {file, line, ...}, applied, notRun,
 * backupId), MIGRATION_DRIFT, MIGRATION_UNKNOWN, MIGRATION_TRANSACTION_CONTROL,
 * MIGRATION_NEEDS_NO_TRANSACTION, MIGRATION_NO_TRANSACTION, CONFIRMATION_REQUIRED,
 * ENVIRONMENT_MISMATCH, LOCK_TIMEOUT.
 */
export { migrateApply, type MigrateApplyOptions, type MigrateApplyReport } from './apply.js';
export { migrateStatus, migrateHistory, markApplied, type MigrateQueryOptions, type MigrateStatusReport, type MigrateHistoryReport, type MarkAppliedOptions, type MarkAppliedReport } from './query.js';
export { migrateVerify, type MigrateVerifyOptions, type MigrateVerifyReport } from './verify.js';
export { migrationFiles, NO_TRANSACTION_MARKER, DEFAULT_MIGRATION_DIRECTORIES, type MigrationFile } from './files.js';
export { compareMigrations, type MigrationComparison, type MigrationEntry, type MigrationState } from './status.js';
export type { MigrationRow, MigrationRowStatus } from './table.js';
export type { AppliedMigration } from './execute.js';
