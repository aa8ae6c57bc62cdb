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
export interface MigrationsToUndo {
  /** Recorded as applied, but not in the backup: its schema lacks them, so they must run again. */
  ids: string[];
  /** The current user may update the table (a superuser may have made it, e.g. through `migrate mark-applied`). */
  mayUpdate: boolean;
  /** Who owns the table, for the message when it may not. */
  owner: string | null;
}

/**
 * The migrations a restore of a backup that had `appliedInBackup` must mark `rolled_back`, and
 * whether this user may. Restoring never needs that privilege: when it is missing the restore
 * goes on and says which records are now wrong.
 */
export async function migrationsToUndo(client: pg.Client, appliedInBackup: readonly string[]): Promise<MigrationsToUndo> {
  const table = await client.query<{ ok: boolean; may: boolean; owner: string }>(
    `SELECT true AS ok, has_table_privilege(c.oid, 'UPDATE') AS may, pg_get_userbyid(c.relowner) AS owner
       FROM pg_class c WHERE c.oid = to_regclass('dbfast.migrations')`,
  );
  const found = table.rows[0];
  if (!found) return { ids: [], mayUpdate: true, owner: null };
  const rows = await client.query<{ id: string }>(
    `SELECT id FROM dbfast.migrations WHERE status IN ('success', 'baseline') AND id <> ALL ($1::text[]) ORDER BY id`,
    [appliedInBackup],
  );
  return { ids: rows.rows.map((row) => row.id), mayUpdate: found.may, owner: found.owner };
}

/**
 * SQL that marks `ids` as `rolled_back` (error: undone by restoring the backup): the tracking
 * table stays with the live database, but the schema those migrations changed is now the
 * backup's, so they must run again. Empty when there is nothing to mark.
 */
export function reconcileMigrationsSql(ids: readonly string[], backupId: string): string {
  if (ids.length === 0) return '';
  return `UPDATE dbfast.migrations SET status = 'rolled_back', error = ${quoteLiteral(`undone by restoring backup ${backupId}`)}
 WHERE status IN ('success', 'baseline') AND id = ANY (ARRAY[${ids.map(quoteLiteral).join(', ')}]::text[]);`;
}
