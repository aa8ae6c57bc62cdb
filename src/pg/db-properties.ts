import type pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import { explainPermission } from '../failure/permission.js';
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

/**
 * `ALTER DATABASE x SET name TO value` for one `name=value` entry of pg_db_role_setting, or
 * `ALTER ROLE r IN DATABASE x SET ...` when the entry belongs to a role.
 */
export function settingStatement(database: string, entry: string, role?: string | null): string {
  const at = entry.indexOf('=');
  const name = entry.slice(0, at);
  const value = entry.slice(at + 1);
  const rendered = LIST_SETTINGS.has(name.toLowerCase()) ? splitGucList(value).map(quoteLiteral).join(', ') : quoteLiteral(value);
  const subject = role ? `ROLE ${quoteIdent(role)} IN DATABASE ${quoteIdent(database)}` : `DATABASE ${quoteIdent(database)}`;
  return `ALTER ${subject} SET ${quoteIdent(name)} TO ${rendered || "''"}`;
}

/**
 * One per-database setting (a row of pg_db_role_setting, split per entry): `ALTER DATABASE d SET
 * name = value` has `role: null`; `ALTER ROLE r IN DATABASE d SET ...` has `role: "r"`.
 * `value` is as PostgreSQL stores it (a list setting such as search_path: `"$user", public`).
 */
export interface DatabaseSetting {
  role: string | null;
  name: string;
  value: string;
}

/** The settings in one order (database-wide first, then by role, then by name), so lists compare by JSON. */
export function sortSettings(settings: readonly DatabaseSetting[]): DatabaseSetting[] {
  const key = (setting: DatabaseSetting): string => `${setting.role === null ? '0' : `1${setting.role}`}\0${setting.name}`;
  return [...settings].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Whether two lists hold the same settings, whatever their order. */
export function sameSettings(a: readonly DatabaseSetting[], b: readonly DatabaseSetting[]): boolean {
  return JSON.stringify(sortSettings(a)) === JSON.stringify(sortSettings(b));
}

/** Splits the `name=value` entries of pg_db_role_setting.setconfig into settings. */
export function settingsFromEntries(rows: ReadonlyArray<{ role: string | null; entry: string }>): DatabaseSetting[] {
  return sortSettings(
    rows.map(({ role, entry }) => {
      const at = entry.indexOf('=');
      return { role, name: entry.slice(0, at), value: entry.slice(at + 1) };
    }),
  );
}

/**
 * SQL expression, for a query over `pg_database AS d`, that yields the database's settings as a
 * JSON array of `{ role, entry }` (role null for the database-wide ones): read in the same round
 * trip as the rest of the catalog, so the seed path pays no extra query.
 */
export const SETTINGS_OF_DATABASE_SQL = `(SELECT coalesce(json_agg(json_build_object(
     'role', CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, 'entry', e.entry)), '[]'::json)
   FROM pg_catalog.pg_db_role_setting AS s, unnest(s.setconfig) AS e(entry) WHERE s.setdatabase = d.oid)`;

/** The per-database settings of `database` (database-wide and role-in-database ones). */
export async function readDatabaseSettings(client: pg.Client, database: string): Promise<DatabaseSetting[]> {
  const result = await client.query<{ settings: Array<{ role: string | null; entry: string }> }>(
    `SELECT ${SETTINGS_OF_DATABASE_SQL} AS settings FROM pg_catalog.pg_database AS d WHERE d.datname = $1`,
    [database],
  );
  return settingsFromEntries(result.rows[0]?.settings ?? []);
}

/** `name = value` (with `role:` in front for a role's), as status and messages show a setting. */
export function describeSetting(setting: DatabaseSetting): string {
  return `${setting.role === null ? '' : `role ${setting.role}: `}${setting.name} = ${setting.value}`;
}

async function currentUser(client: pg.Client): Promise<string> {
  return (await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user ?? 'the deploying role';
}

/**
 * Whether `database` could be given these settings by this connection's role: applies them in a
 * transaction that is rolled back (ALTER DATABASE/ROLE ... SET is transactional), so a deploy can
 * refuse before its backup and restore rather than at the swap. Throws as `applyDatabaseSettings`.
 */
export async function checkSettingsAllowed(client: pg.Client, database: string, settings: readonly DatabaseSetting[]): Promise<void> {
  if (settings.length === 0) return;
  await client.query('BEGIN');
  try {
    await applyDatabaseSettings(client, database, settings);
  } finally {
    await client.query('ROLLBACK');
  }
}

/** The statements that give `database` these settings, for a caller that runs them in its own transaction. */
export function settingsStatements(database: string, settings: readonly DatabaseSetting[]): string[] {
  return settings.map((setting) => `${settingStatement(database, `${setting.name}=${setting.value}`, setting.role)};`);
}

/**
 * Gives `database` the settings a template was built with. PostgreSQL does not copy
 * pg_db_role_setting with `CREATE DATABASE ... TEMPLATE` nor with pg_dump (without --create), so
 * every clone (seeded, scratch, pooled) and every deployed side database gets them from here,
 * right after it is made. Runs on any connection to the server (ALTER DATABASE need not connect
 * to the database). A setting that cannot be applied throws SETTING_NOT_APPLIED naming it: a
 * database without its settings behaves differently from the template, so it is not handed out.
 */
export async function applyDatabaseSettings(client: pg.Client, database: string, settings: readonly DatabaseSetting[]): Promise<void> {
  // Read before anything can fail: inside a caller's transaction nothing can be asked after an error.
  const user = settings.length > 0 ? await currentUser(client) : '';
  for (const setting of settings) {
    try {
      await client.query(settingStatement(database, `${setting.name}=${setting.value}`, setting.role));
    } catch (error) {
      const code = (error as { code?: string }).code;
      // Not the owner: no GRANT helps, only ownership (ALTER DATABASE ... OWNER TO) or deploying as the owner.
      const notOwner = code === '42501' && /must be owner of database/.test(errorMessage(error)) ? explainPermission(errorMessage(error), { user }) : undefined;
      const hint = notOwner ? notOwner.hint :
        code === '42704' && setting.role !== null
          ? `Role "${setting.role}" is missing on this server: create it (put its CREATE ROLE in [repository] cluster_setup: the next build runs it on the local server; on a remote, run \`dbfast remote setup NAME\`).`
          : code === '42501'
            ? `As a superuser on this server: GRANT SET ON PARAMETER ${quoteIdent(setting.name)} TO ${quoteIdent(user)};${setting.role === null ? '' : ' (settings of another role also need CREATEROLE)'} or remove the setting from the template's SQL files.`
            : "Fix or remove the setting in the template's SQL files.";
      throw new DbfastError('SETTING_NOT_APPLIED', `could not give database "${database}" the setting ${describeSetting(setting)}: ${errorMessage(error)}`, { hint, details: { database, setting } });
    }
  }
}

const settingKey = (setting: DatabaseSetting): string => `${setting.role ?? ''}\0${setting.name}`;

/** What turns `database`'s settings `from` into `to`: the ones to RESET (in `from` only) and the ones to SET (new or of another value). */
export function settingChanges(from: readonly DatabaseSetting[], to: readonly DatabaseSetting[]): { reset: DatabaseSetting[]; set: DatabaseSetting[] } {
  const target = new Map(to.map((setting) => [settingKey(setting), setting.value]));
  const current = new Map(from.map((setting) => [settingKey(setting), setting.value]));
  return {
    reset: from.filter((setting) => !target.has(settingKey(setting))),
    set: to.filter((setting) => current.get(settingKey(setting)) !== setting.value),
  };
}

function resetStatement(database: string, setting: DatabaseSetting): string {
  const subject = setting.role ? `ROLE ${quoteIdent(setting.role)} IN DATABASE ${quoteIdent(database)}` : `DATABASE ${quoteIdent(database)}`;
  return `ALTER ${subject} RESET ${quoteIdent(setting.name)}`;
}

/** The statements of `settingChanges`, for a caller that runs them inside its own transaction (an in-place restore). */
export function settingChangesStatements(database: string, from: readonly DatabaseSetting[], to: readonly DatabaseSetting[]): string[] {
  const changes = settingChanges(from, to);
  return [...changes.reset.map((setting) => `${resetStatement(database, setting)};`), ...settingsStatements(database, changes.set)];
}

/**
 * Gives `database` exactly the settings `to`, where it has `from` now: RESETs what `to` lacks, SETs
 * what is new or differs, and leaves alone what is already right (so a setting the role may not
 * make, but the database already has, is no obstacle). Throws SETTING_NOT_APPLIED as
 * `applyDatabaseSettings`. `rollback`: only find out whether it would work (in a transaction rolled back).
 */
export async function applySettingChanges(client: pg.Client, database: string, from: readonly DatabaseSetting[], to: readonly DatabaseSetting[], options: { rollback?: boolean } = {}): Promise<void> {
  const changes = settingChanges(from, to);
  if (changes.reset.length + changes.set.length === 0) return;
  // Read before anything can fail: inside a transaction nothing can be asked after an error.
  const user = await currentUser(client);
  if (options.rollback) await client.query('BEGIN');
  try {
    for (const setting of changes.reset) {
      try {
        await client.query(resetStatement(database, setting));
      } catch (error) {
        throw new DbfastError('SETTING_NOT_APPLIED', `could not remove the setting ${describeSetting(setting)} from database "${database}": ${errorMessage(error)}`, {
          hint: `As a superuser on this server: GRANT SET ON PARAMETER ${quoteIdent(setting.name)} TO ${quoteIdent(user)}; or remove the setting by hand first.`,
          details: { database, setting },
        });
      }
    }
    await applyDatabaseSettings(client, database, changes.set);
  } finally {
    if (options.rollback) await client.query('ROLLBACK');
  }
}

/**
 * pg_dump without --create carries no database-level properties, so a database swapped in
 * would lose them: copy `ALTER DATABASE ... SET` and `ALTER ROLE ... IN DATABASE ... SET` defaults, GRANTs on the database and its
 * comment from the one being replaced. Best effort: a property that cannot be copied is
 * reported as a warning, never a reason to abandon a restore that already succeeded.
 */
export async function copyDatabaseProperties(client: pg.Client, from: string, to: string, logger: Logger, options: { comment?: boolean; settings?: boolean } = {}): Promise<void> {
  const statements: string[] = [];
  // Settings of the database and of roles in it; `settings: false` when the caller gives `to` settings of its own (a backup's).
  if (options.settings !== false) {
    for (const setting of await readDatabaseSettings(client, from)) statements.push(settingStatement(to, `${setting.name}=${setting.value}`, setting.role));
  }
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
