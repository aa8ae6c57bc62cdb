import os from 'node:os';
import type pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import { ensureDbfastSchema } from '../history/schema.js';

/**
 * `dbfast.migrations` (DDL in src/pg/dbfast-schema.ts, so swaps and restores carry it over):
 * one row per migration id, rewritten by every attempt. Reading never creates it; writers call
 * `ensureDbfastSchema` first.
 */
export type MigrationRowStatus = 'success' | 'failed' | 'rolled_back' | 'baseline';

/** One row of `dbfast.migrations`. */
export interface MigrationRow {
  id: string;
  sha256: string;
  appliedAt: string;
  appliedBy: string;
  executionMs: number | null;
  status: MigrationRowStatus;
  error: string | null;
  /** The deploy/migrate run (`dbfast.deploy_history.deploy_id`) that wrote the row. */
  runId: string | null;
}

interface RawRow {
  id: string;
  sha256: string;
  applied_at: Date;
  applied_by: string;
  execution_ms: number | null;
  status: MigrationRowStatus;
  error: string | null;
  run_id: string | null;
}

/** Whether the remote tracks migrations yet. */
export async function migrationsTableExists(client: pg.Client): Promise<boolean> {
  const result = await client.query<{ ok: boolean }>(`SELECT to_regclass('dbfast.migrations') IS NOT NULL AS ok`);
  return result.rows[0]?.ok === true;
}

/** Oldest first; [] when the table does not exist yet. */
export async function readMigrationRows(client: pg.Client): Promise<MigrationRow[]> {
  if (!(await migrationsTableExists(client))) return [];
  const result = await client.query<RawRow>('SELECT * FROM dbfast.migrations ORDER BY applied_at, id');
  return result.rows.map((row) => ({
    id: row.id,
    sha256: row.sha256,
    appliedAt: row.applied_at.toISOString(),
    appliedBy: row.applied_by,
    executionMs: row.execution_ms,
    status: row.status,
    error: row.error,
    runId: row.run_id,
  }));
}

/** Who ran it: the OS user and host (the database role is usually a shared service account). */
export function appliedBy(): string {
  return `${os.userInfo().username}@${os.hostname()}`;
}

/** What a run records about one migration. */
export interface MigrationWrite {
  id: string;
  sha256: string;
  status: MigrationRowStatus;
  executionMs: number | null;
  error: string | null;
  runId: string | null;
}

/** Inserts or replaces the migration's row (on the caller's connection, inside its transaction if one is open). */
export async function writeMigrationRow(client: pg.Client, row: MigrationWrite): Promise<void> {
  await client.query(
    `INSERT INTO dbfast.migrations (id, sha256, applied_at, applied_by, execution_ms, status, error, run_id)
     VALUES ($1, $2, clock_timestamp(), $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = EXCLUDED.applied_at,
       applied_by = EXCLUDED.applied_by, execution_ms = EXCLUDED.execution_ms, status = EXCLUDED.status,
       error = EXCLUDED.error, run_id = EXCLUDED.run_id`,
    [row.id, row.sha256, appliedBy(), row.executionMs, row.status, row.error, row.runId],
  );
}

/** Creates the dbfast schema and its tables when missing, saying what to grant when the user may not. */
export async function ensureTrackingTable(client: pg.Client, database: string): Promise<void> {
  try {
    await ensureDbfastSchema(client);
  } catch (error) {
    throw new DbfastError('TRACKING_TABLE_UNAVAILABLE', `cannot create dbfast.migrations in database "${database}": ${errorMessage(error)}`, {
      hint: `As the database owner or a superuser: CREATE SCHEMA dbfast AUTHORIZATION <the remote's user>; (or GRANT CREATE ON DATABASE "${database}" to it), then run the command again. Nothing was applied.`,
      cause: error,
    });
  }
}
