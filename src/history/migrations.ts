import type pg from 'pg';
import { quoteLiteral } from '../pg/quote.js';

/** Migrations a backup's database had applied, read in the backup's own snapshot. */
export async function appliedMigrationIds(client: pg.Client): Promise<string[]> {
  const exists = await client.query<{ ok: boolean }>(`SELECT to_regclass('dbfast.migrations') IS NOT NULL AS ok`);
  if (exists.rows[0]?.ok !== true) return [];
  const rows = await client.query<{ id: string }>(`SELECT id FROM dbfast.migrations WHERE status IN ('success', 'baseline') ORDER BY id`);
  return rows.rows.map((row) => row.id);
}

/** What restoring a backup changes in `dbfast.migrations`, read before the restore. */
export interface MigrationRecordChanges {
  /** Recorded as applied, but not in the backup: its schema lacks them, so they must run again. */
  undo: string[];
  /** In the backup, recorded here but not as applied (rolled back by an older restore, failed): its schema has them. */
  redo: string[];
  /** In the backup, never recorded here (a backup of another remote): `mark-applied` them, or they run again. */
  unknown: string[];
  /** The current user may update the table (a superuser may have made it, e.g. through `migrate mark-applied`). */
  mayUpdate: boolean;
  /** Who owns the table, for the message when it may not. */
  owner: string | null;
}

/**
 * How the migration records must change so they describe the schema of a backup that had
 * `appliedInBackup` applied, and whether this user may change them. Restoring never needs that
 * privilege: when it is missing the restore goes on and says which records are now wrong.
 */
export async function migrationRecordChanges(client: pg.Client, appliedInBackup: readonly string[]): Promise<MigrationRecordChanges> {
  const table = await client.query<{ may: boolean; owner: string }>(
    `SELECT has_table_privilege(c.oid, 'UPDATE') AS may, pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.oid = to_regclass('dbfast.migrations')`,
  );
  const found = table.rows[0];
  const rows = found ? (await client.query<{ id: string; applied: boolean }>(`SELECT id, status IN ('success', 'baseline') AS applied FROM dbfast.migrations ORDER BY id`)).rows : [];
  const inBackup = new Set(appliedInBackup);
  const recorded = new Map(rows.map((row) => [row.id, row.applied]));
  return {
    undo: rows.filter((row) => row.applied && !inBackup.has(row.id)).map((row) => row.id),
    redo: rows.filter((row) => !row.applied && inBackup.has(row.id)).map((row) => row.id),
    unknown: appliedInBackup.filter((id) => !recorded.has(id)),
    mayUpdate: found?.may ?? true,
    owner: found?.owner ?? null,
  };
}

/**
 * SQL that makes the records match a restored backup: `undo` marked `rolled_back`, `redo`
 * marked applied again (`baseline`), each saying which backup did it. Empty when there is
 * nothing to change.
 */
export function reconcileMigrationsSql(changes: Pick<MigrationRecordChanges, 'undo' | 'redo'>, backupId: string): string {
  const list = (ids: readonly string[]): string => `ARRAY[${ids.map(quoteLiteral).join(', ')}]::text[]`;
  const statements: string[] = [];
  if (changes.undo.length > 0) {
    statements.push(`UPDATE dbfast.migrations SET status = 'rolled_back', error = ${quoteLiteral(`undone by restoring backup ${backupId}`)} WHERE id = ANY (${list(changes.undo)});`);
  }
  if (changes.redo.length > 0) {
    statements.push(`UPDATE dbfast.migrations SET status = 'baseline', error = ${quoteLiteral(`applied again by restoring backup ${backupId}`)} WHERE id = ANY (${list(changes.redo)});`);
  }
  return statements.join('\n');
}
