import type pg from 'pg';
import { quoteLiteral } from '../pg/quote.js';

/** Migrations a backup's database had applied, read in the backup's own snapshot. */
export async function appliedMigrationIds(client: pg.Client): Promise<string[]> {
  const exists = await client.query<{ ok: boolean }>(`SELECT to_regclass('dbfast.migrations') IS NOT NULL AS ok`);
  if (exists.rows[0]?.ok !== true) return [];
  const rows = await client.query<{ id: string }>(`SELECT id FROM dbfast.migrations WHERE status IN ('success', 'baseline') ORDER BY id`);
  return rows.rows.map((row) => row.id);
}

/**
 * SQL that marks as `rolled_back` the migrations recorded as applied that the restored backup
 * did not have: the tracking table stays with the live database, but the schema those
 * migrations changed is now the backup's, so they must run again.
 */
export function reconcileMigrationsSql(appliedInBackup: readonly string[], backupId: string): string {
  const ids = appliedInBackup.map(quoteLiteral).join(', ');
  return `DO $dbfast_reconcile$
BEGIN
  IF to_regclass('dbfast.migrations') IS NOT NULL THEN
    UPDATE dbfast.migrations
       SET status = 'rolled_back', error = ${quoteLiteral(`undone by restoring backup ${backupId}`)}
     WHERE status IN ('success', 'baseline') AND id <> ALL (ARRAY[${ids}]::text[]);
  END IF;
END $dbfast_reconcile$;`;
}
