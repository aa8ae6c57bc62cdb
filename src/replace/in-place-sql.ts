import { randomBytes } from 'node:crypto';
import { quoteIdent, quoteLiteral } from '../pg/quote.js';
import type { TableCount } from '../validate/tables.js';

function dollarTag(): string {
  return `$dbfast_${randomBytes(4).toString('hex')}$`;
}

/**
 * Runs inside the restore transaction, before the archive: drops the backup's schemas (not
 * `public`) that the current user owns, with everything in them, so objects created since
 * the backup cannot block the restore (pg_restore --clean alone refuses to drop a schema or
 * table something newer depends on). Schemas of other owners are left to --clean.
 */
export function dropSchemasSql(schemas: string[]): string {
  const mine = schemas.filter((s) => s !== 'public');
  const tag = dollarTag();
  const lines = ['SET client_min_messages = warning;'];
  if (mine.length > 0) {
    lines.push(
      `DO ${tag}`,
      'DECLARE s text;',
      'BEGIN',
      `  FOREACH s IN ARRAY ARRAY[${mine.map(quoteLiteral).join(', ')}]::text[] LOOP`,
      "    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = s AND pg_has_role(nspowner, 'USAGE')) THEN",
      "      EXECUTE format('DROP SCHEMA %I CASCADE', s);",
      '    END IF;',
      '  END LOOP;',
      `END ${tag};`,
    );
  }
  return lines.join('\n');
}

/**
 * Runs inside the restore transaction, after the archive, before COMMIT: raises (and so
 * rolls the restore back) when a table's row count differs from the backup's metadata.
 */
export function countCheckSql(tables: TableCount[], backupId: string): string {
  const tag = dollarTag();
  const lines = [`DO ${tag}`, 'DECLARE n bigint; problems text := \'\';', 'BEGIN'];
  for (const t of tables) {
    const name = `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
    lines.push(
      `  SELECT count(*) INTO n FROM ${name};`,
      `  IF n <> ${t.rows} THEN problems := problems || format(E'\\n  table %s has %s rows, the backup recorded %s', ${quoteLiteral(name)}, n, ${t.rows}); END IF;`,
    );
  }
  lines.push(
    `  IF problems <> '' THEN RAISE EXCEPTION 'dbfast: the restored rows do not match backup %:%', ${quoteLiteral(backupId)}, problems; END IF;`,
    `END ${tag};`,
  );
  return lines.join('\n');
}
