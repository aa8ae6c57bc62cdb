import type pg from 'pg';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { quoteIdent, quoteLiteral } from './quote.js';

/** GUCs whose stored value is a list of quoted items (pg_dump's GUC_LIST_QUOTE set). */
const LIST_SETTINGS = new Set(['search_path', 'temp_tablespaces', 'session_preload_libraries', 'local_preload_libraries']);

/** Splits `"$user", public` the way PostgreSQL's SplitGUCList does. */
export function splitGucList(value: string): string[] {
  const items: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (value[i] === ' ' || value[i] === ',') i++;
    if (i >= value.length) break;
    let item = '';
    if (value[i] === '"') {
      i++;
      while (i < value.length) {
        if (value[i] === '"' && value[i + 1] === '"') {
          item += '"';
          i += 2;
        } else if (value[i] === '"') {
          i++;
          break;
        } else item += value[i++];
      }
    } else {
      while (i < value.length && value[i] !== ',') item += value[i++];
      item = item.trim();
    }
    items.push(item);
    while (i < value.length && value[i] !== ',') i++;
  }
  return items;
}

/** `ALTER DATABASE x SET name TO value` for one `name=value` entry of pg_db_role_setting. */
export function settingStatement(database: string, entry: string): string {
  const at = entry.indexOf('=');
  const name = entry.slice(0, at);
  const value = entry.slice(at + 1);
  const rendered = LIST_SETTINGS.has(name.toLowerCase()) ? splitGucList(value).map(quoteLiteral).join(', ') : quoteLiteral(value);
  return `ALTER DATABASE ${quoteIdent(database)} SET ${quoteIdent(name)} TO ${rendered || "''"}`;
}

/**
 * pg_dump without --create carries no database-level properties, so a database swapped in
 * would lose them: copy `ALTER DATABASE ... SET` defaults, GRANTs on the database and its
 * comment from the one being replaced. Best effort: a property that cannot be copied is
 * reported as a warning, never a reason to abandon a restore that already succeeded.
 */
export async function copyDatabaseProperties(client: pg.Client, from: string, to: string, logger: Logger, options: { comment?: boolean } = {}): Promise<void> {
  const statements: string[] = [];
  const settings = await client.query<{ setconfig: string[] }>(
    `SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0`,
    [from],
  );
  for (const row of settings.rows) for (const entry of row.setconfig ?? []) statements.push(settingStatement(to, entry));
  const acl = await client.query<{ has_acl: boolean; grantee: string | null; privilege_type: string | null; is_grantable: boolean | null }>(
    `SELECT d.datacl IS NOT NULL AS has_acl, CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END AS grantee,
            a.privilege_type, a.is_grantable
     FROM pg_database d LEFT JOIN LATERAL aclexplode(d.datacl) a ON true WHERE d.datname = $1`,
    [from],
  );
  if (acl.rows[0]?.has_acl) {
    statements.push(`REVOKE ALL ON DATABASE ${quoteIdent(to)} FROM PUBLIC`);
    for (const row of acl.rows) {
      if (!row.privilege_type) continue;
      const grantee = row.grantee === null ? 'PUBLIC' : quoteIdent(row.grantee);
      statements.push(`GRANT ${row.privilege_type} ON DATABASE ${quoteIdent(to)} TO ${grantee}${row.is_grantable ? ' WITH GRANT OPTION' : ''}`);
    }
  }
  const comment = await client.query<{ comment: string | null }>(
    `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
    [from],
  );
  const text = comment.rows[0]?.comment;
  if (text && options.comment !== false) statements.push(`COMMENT ON DATABASE ${quoteIdent(to)} IS ${quoteLiteral(text)}`);
  for (const statement of statements) {
    try {
      await client.query(statement);
    } catch (error) {
      logger.warn(`could not copy a property of database "${from}" to "${to}" (${statement}): ${errorMessage(error)}`);
    }
  }
}
