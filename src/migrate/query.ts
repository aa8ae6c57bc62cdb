import type { DbfastConfig } from '../config/types.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { withClient, withTransaction } from '../pg/client.js';
import { withDatabaseLock } from '../pg/lock.js';
import { requireConfirmation } from '../remote/policy.js';
import { migrationFiles } from './files.js';
import { migrateScope, type MigrateScope } from './scope.js';
import { compareMigrations, type MigrationComparison } from './status.js';
import { ensureTrackingTable, migrationsTableExists, readMigrationRows, writeMigrationRow, type MigrationRow, type MigrationRowStatus } from './table.js';

/** Which remote (and `--env`, which must be its own). */
export interface MigrateQueryOptions {
  config: DbfastConfig;
  remote: string;
  environment?: string | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** The migrations of a remote's environment against its records. */
export interface MigrateStatusReport extends MigrationComparison {
  remote: string;
  environment: string;
  database: string;
  directories: string[];
  /** `dbfast.migrations` exists on the remote (it is created by the first apply or mark-applied). */
  tracked: boolean;
  /** Nothing pending, nothing drifted. */
  ok: boolean;
}

/** The repository's migrations against the remote's records. Reads only. */
export async function migrateStatus(options: MigrateQueryOptions): Promise<MigrateStatusReport> {
  return migrationStatus(migrateScope(options));
}

/** `migrateStatus` for a remote already resolved (what `status --remote` counts). */
export async function migrationStatus(scope: MigrateScope): Promise<MigrateStatusReport> {
  const files = await migrationFiles(scope.config, scope.environment);
  const { rows, tracked } = await withClient(scope.target, async (client) => ({ tracked: await migrationsTableExists(client), rows: await readMigrationRows(client) }));
  const comparison = compareMigrations(files, rows);
  return {
    remote: scope.remote.name,
    environment: scope.environment,
    database: scope.database,
    directories: scope.directories,
    tracked,
    ...comparison,
    ok: comparison.pending.length === 0 && comparison.drifted.length === 0,
  };
}

/** Every migration recorded on a remote. */
export interface MigrateHistoryReport {
  remote: string;
  database: string;
  /** Every row of `dbfast.migrations`, in the order they were written. */
  migrations: MigrationRow[];
}

/** Every row of the remote's `dbfast.migrations`, in the order they were written. Reads only. */
export interface MigrateHistoryOptions extends MigrateQueryOptions {
  /** Only the newest this many rows (still oldest first); default all. */
  limit?: number | undefined;
}

export async function migrateHistory(options: MigrateHistoryOptions): Promise<MigrateHistoryReport> {
  const scope = migrateScope(options);
  const rows = await withClient(scope.target, (client) => readMigrationRows(client));
  const migrations = options.limit === undefined ? rows : rows.slice(-options.limit);
  return { remote: scope.remote.name, database: scope.database, migrations };
}

/** Which migrations to record as applied, and the guards' answers. */
export interface MarkAppliedOptions extends MigrateQueryOptions {
  ids: string[];
  confirmed?: boolean | undefined;
  lockTimeoutMs?: number | undefined;
}

/** What `mark-applied` recorded, and what each record said before. */
export interface MarkAppliedReport {
  remote: string;
  database: string;
  marked: Array<{ id: string; sha256: string; previous: MigrationRowStatus | null }>;
}

/**
 * Records migrations as applied without running them (status `baseline`, the file's checksum):
 * for a database whose schema already has them. Unknown ids are refused before anything is written.
 */
export async function markApplied(options: MarkAppliedOptions): Promise<MarkAppliedReport> {
  const scope = migrateScope(options);
  const files = await migrationFiles(scope.config, scope.environment);
  const byId = new Map(files.map((file) => [file.id, file]));
  const unknown = options.ids.filter((id) => !byId.has(id));
  if (options.ids.length === 0 || unknown.length > 0) {
    throw new DbfastError('MIGRATION_UNKNOWN', options.ids.length === 0 ? 'which migrations? name at least one id' : `no such migration in ${scope.directories.join(', ')}: ${unknown.join(', ')}`, {
      hint: `A migration's id is its path relative to the repository, as \`dbfast migrate status --remote ${scope.remote.name}\` lists it.`,
      details: { unknown },
    });
  }
  requireConfirmation(scope.remote, options.confirmed, 'marking migrations applied on');
  return withDatabaseLock(scope.target, scope.database, { timeoutMs: options.lockTimeoutMs, logger: scope.logger }, () =>
    withClient(scope.target, async (client) => {
      const previous = new Map((await readMigrationRows(client)).map((row) => [row.id, row.status]));
      await ensureTrackingTable(client, scope.database);
      const marked: MarkAppliedReport['marked'] = [];
      await withTransaction(client, async () => {
        for (const id of options.ids) {
          const file = byId.get(id);
          if (!file) continue;
          await writeMigrationRow(client, { id, sha256: file.sha256, status: 'baseline', executionMs: null, error: null, runId: null });
          marked.push({ id, sha256: file.sha256, previous: previous.get(id) ?? null });
        }
      });
      return { remote: scope.remote.name, database: scope.database, marked };
    }),
  );
}
