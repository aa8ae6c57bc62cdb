import type { DbfastConfig } from '../config/types.js';
import { connectMaintenance } from '../pg/admin.js';
import { databaseLockKey } from '../replace/swap.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryUnlock } from '../pg/lock.js';
import { migrationFiles } from './files.js';
import { migrateScope } from './scope.js';
import { compareMigrations, type MigrationComparison } from './status.js';
import { ensureTrackingTable, migrationsTableExists, readMigrationRows, writeMigrationRow, type MigrationRow, type MigrationRowStatus } from './table.js';

export interface MigrateQueryOptions {
  config: DbfastConfig;
  remote: string;
  environment?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

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
  const scope = migrateScope(options);
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

export interface MigrateHistoryReport {
  remote: string;
  database: string;
  /** Every row of `dbfast.migrations`, in the order they were written. */
  migrations: MigrationRow[];
}

export async function migrateHistory(options: MigrateQueryOptions): Promise<MigrateHistoryReport> {
  const scope = migrateScope(options);
  const migrations = await withClient(scope.target, (client) => readMigrationRows(client));
  return { remote: scope.remote.name, database: scope.database, migrations };
}

export interface MarkAppliedOptions extends MigrateQueryOptions {
  ids: string[];
  confirmed?: boolean | undefined;
  lockTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
}

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
  const logger = options.logger ?? silentLogger;
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
  if (scope.remote.requireConfirmation && options.confirmed !== true) {
    throw new DbfastError('CONFIRMATION_REQUIRED', `marking migrations applied on remote "${scope.remote.name}" needs confirmation`, {
      hint: 'Pass --confirm (or --yes), or run in a terminal and answer the prompt.',
    });
  }
  const admin = await connectMaintenance(scope.target, [scope.database]);
  const key = databaseLockKey(scope.database);
  try {
    await acquireAdvisoryLock(admin.client, key, {
      timeoutMs: options.lockTimeoutMs,
      onWait: () => logger.info(`another dbfast operation holds database "${scope.database}"; waiting for it to finish`),
    });
    return await withClient(scope.target, async (client) => {
      const previous = new Map((await readMigrationRows(client)).map((row) => [row.id, row.status]));
      await ensureTrackingTable(client, scope.database);
      const marked: MarkAppliedReport['marked'] = [];
      await client.query('BEGIN');
      try {
        for (const id of options.ids) {
          const file = byId.get(id);
          if (!file) continue;
          await writeMigrationRow(client, { id, sha256: file.sha256, status: 'baseline', executionMs: null, error: null, runId: null });
          marked.push({ id, sha256: file.sha256, previous: previous.get(id) ?? null });
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
      return { remote: scope.remote.name, database: scope.database, marked };
    });
  } finally {
    await advisoryUnlock(admin.client, key).catch(() => undefined);
    await admin.client.end().catch(() => undefined);
  }
}
