import type pg from 'pg';
import { errorMessage } from '../errors.js';
import { explainPermission, sqlName } from '../failure/permission.js';
import { quoteIdent } from '../pg/quote.js';
import { failed, passed, type CheckResult, type ServerFacts } from './types.js';

/**
 * Whether the connecting role can read everything pg_dump reads in the live database: every
 * backup and every deploy (its backup first) runs pg_dump, which is refused by the first
 * object the role may not read. Mirrors pg_dump (15-19) without running it:
 * - the catalogs it queries (SELECT, and USAGE on pg_catalog), which a hardened server may revoke;
 * - tables and partitioned tables it locks (ACCESS SHARE needs SELECT) and copies, sequences
 *   whose state it reads (SELECT), and USAGE on the schemas holding them (to name them);
 *   extension members are skipped as pg_dump skips them, except extension configuration tables;
 * - large objects it opens (SELECT; lo_compat_privileges switches the check off);
 * - row-level security: pg_dump sets row_security = off, so a table whose policies apply to
 *   the role (not a superuser, not BYPASSRLS, not its owner unless FORCE ROW LEVEL SECURITY) fails.
 * Views, materialized views and foreign tables are only described (no read), functions and
 * types need no privilege to be described: none of them is checked.
 */

/** The catalogs pg_dump queries (those missing on a server version are left out). */
const CATALOGS = [
  'pg_aggregate', 'pg_am', 'pg_amop', 'pg_amproc', 'pg_attrdef', 'pg_attribute', 'pg_cast', 'pg_class', 'pg_collation', 'pg_constraint',
  'pg_conversion', 'pg_database', 'pg_default_acl', 'pg_depend', 'pg_description', 'pg_event_trigger', 'pg_extension',
  'pg_foreign_data_wrapper', 'pg_foreign_server', 'pg_index', 'pg_inherits', 'pg_init_privs', 'pg_language', 'pg_largeobject_metadata',
  'pg_namespace', 'pg_opclass', 'pg_operator', 'pg_opfamily', 'pg_partitioned_table', 'pg_policy', 'pg_proc', 'pg_publication',
  'pg_publication_namespace', 'pg_publication_rel', 'pg_range', 'pg_rewrite', 'pg_roles', 'pg_seclabel', 'pg_sequence', 'pg_shdescription',
  'pg_shseclabel', 'pg_statistic_ext', 'pg_tablespace', 'pg_transform', 'pg_trigger', 'pg_ts_config', 'pg_ts_config_map', 'pg_ts_dict',
  'pg_ts_parser', 'pg_ts_template', 'pg_type', 'pg_user_mappings',
];

const CATALOG_SQL = `
  SELECT 'schema' AS kind, 'pg_catalog' AS schema, ARRAY['pg_catalog'] AS names, 1 AS total, ARRAY[]::text[] AS owners
   WHERE NOT has_schema_privilege('pg_catalog', 'USAGE')
  UNION ALL
  SELECT 'catalog', 'pg_catalog', array_agg(c ORDER BY c), count(*)::int, ARRAY[]::text[]
    FROM unnest($1::text[]) AS c
   WHERE to_regclass('pg_catalog.' || c) IS NOT NULL AND NOT has_table_privilege(('pg_catalog.' || c)::regclass, 'SELECT')
  HAVING count(*) > 0`;

/** How each large object's SELECT is decided: has_largeobject_privilege exists from PostgreSQL 18 on. */
function largeObjectDenied(serverVersionNum: number): string {
  if (serverVersionNum >= 180000) return "NOT has_largeobject_privilege(m.oid, 'SELECT')";
  // The server's own rule (aclmask): the ACL, or the owner's default one, grants SELECT to
  // PUBLIC or to a role whose privileges the current user has.
  return `NOT EXISTS (SELECT 1 FROM aclexplode(coalesce(m.lomacl, acldefault('L', m.lomowner))) a
                        WHERE a.privilege_type = 'SELECT' AND (a.grantee = 0 OR pg_has_role(a.grantee, 'USAGE')))`;
}

function objectsSql(serverVersionNum: number): string {
  return `
  WITH me AS (SELECT rolsuper, rolsuper OR rolbypassrls AS bypass_rls FROM pg_roles WHERE rolname = current_user),
  dumped AS (
    SELECT c.oid, c.relkind, c.relname, c.relnamespace, n.nspname, pg_get_userbyid(c.relowner) AS owner, c.relowner,
           c.relrowsecurity, c.relforcerowsecurity
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'S') AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
       AND (NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
            OR c.oid IN (SELECT unnest(extconfig) FROM pg_extension))),
  denied AS (
    SELECT DISTINCT 1 AS ord, 'schema' AS kind, n.nspname AS schema, n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner
      FROM pg_namespace n WHERE n.oid IN (SELECT relnamespace FROM dumped) AND NOT has_schema_privilege(n.oid, 'USAGE')
    UNION ALL
    SELECT 2, 'table', nspname, relname, owner FROM dumped WHERE relkind IN ('r', 'p') AND NOT has_table_privilege(oid, 'SELECT')
    UNION ALL
    SELECT 3, 'sequence', nspname, relname, owner FROM dumped WHERE CASE WHEN relkind = 'S' THEN NOT has_sequence_privilege(oid, 'SELECT') ELSE false END
    UNION ALL
    SELECT 4, 'large object', NULL, m.oid::text, pg_get_userbyid(m.lomowner) FROM pg_largeobject_metadata m, me
     WHERE NOT me.rolsuper AND current_setting('lo_compat_privileges') <> 'on' AND ${largeObjectDenied(serverVersionNum)}
    UNION ALL
    SELECT 5, 'rls', nspname, relname, owner FROM dumped, me
     WHERE relkind = 'r' AND relrowsecurity AND has_table_privilege(oid, 'SELECT') AND NOT me.bypass_rls
       AND NOT (pg_has_role(relowner, 'USAGE') AND NOT relforcerowsecurity))
  SELECT kind, schema::text, (array_agg(name::text ORDER BY name))[1:20] AS names, count(*)::int AS total, array_agg(DISTINCT owner::text) AS owners
    FROM denied GROUP BY ord, kind, schema ORDER BY ord, schema`;
}

/** What pg_dump would be refused, grouped by kind and schema: the first 20 names, how many, whose. */
interface DeniedGroup {
  kind: 'schema' | 'catalog' | 'table' | 'sequence' | 'large object' | 'rls';
  schema: string | null;
  names: string[];
  total: number;
  owners: string[];
}

const SHOWN = 5;

function shown(group: DeniedGroup, name: string): string {
  const qualified = group.schema && group.kind !== 'schema' ? `${sqlName(group.schema)}.${sqlName(name)}` : group.kind === 'large object' ? name : sqlName(name);
  switch (group.kind) {
    case 'schema': return `schema ${qualified} (USAGE)`;
    case 'catalog': return `catalog ${qualified} (SELECT)`;
    case 'rls': return `table ${qualified} (row-level security)`;
    default: return `${group.kind} ${qualified} (SELECT)`;
  }
}

/** The statements that grant what is missing, one per schema and kind (all of a kind in a schema when more than one). */
function grants(groups: DeniedGroup[], user: string): string[] {
  const role = quoteIdent(user);
  const statements: string[] = [];
  for (const group of groups) {
    const schema = group.schema === null ? '' : sqlName(group.schema);
    const one = group.total === 1 ? sqlName(group.names[0] as string) : undefined;
    switch (group.kind) {
      case 'schema':
        statements.push(`GRANT USAGE ON SCHEMA ${schema} TO ${role};`);
        break;
      case 'catalog':
        statements.push(...group.names.map((name) => `GRANT SELECT ON pg_catalog.${sqlName(name)} TO ${role};`));
        break;
      case 'table':
        statements.push(one ? `GRANT SELECT ON ${schema}.${one} TO ${role};` : `GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role};`);
        break;
      case 'sequence':
        statements.push(one ? `GRANT SELECT ON SEQUENCE ${schema}.${one} TO ${role};` : `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role};`);
        break;
      case 'large object':
        statements.push(
          group.total <= group.names.length
            ? `GRANT SELECT ON LARGE OBJECT ${group.names.join(', ')} TO ${role};`
            : `GRANT SELECT ON LARGE OBJECT <oid> TO ${role}; for each (in psql: SELECT format('GRANT SELECT ON LARGE OBJECT %s TO %I', oid, '${user.replaceAll("'", "''")}') FROM pg_largeobject_metadata \\gexec)`,
        );
        break;
      case 'rls':
        break;
    }
  }
  return statements;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The failed `read` check: the first objects with their privilege, how many in all, the GRANTs to run. */
function deniedCheck(groups: DeniedGroup[], facts: ServerFacts): CheckResult {
  const user = facts.currentUser;
  const role = quoteIdent(user);
  const total = groups.reduce((sum, group) => sum + group.total, 0);
  const all = groups.flatMap((group) => group.names.map((name) => shown(group, name)));
  const first = all.slice(0, SHOWN);
  const more = total - first.length;
  const detail = `${user} may not read ${plural(total, 'object')} that pg_dump reads in ${facts.database}, so backups and deploys would fail: ${first.join(', ')}${more > 0 ? `, and ${more} more` : ''}`;
  const owners = [...new Set(groups.flatMap((group) => group.owners))].filter((owner) => owner !== user);
  const parts: string[] = [];
  const statements = grants(groups, user);
  if (statements.length > 0) parts.push(`As their owner or a superuser: ${statements.join(' ')}`);
  if (groups.some((group) => group.kind === 'rls')) {
    parts.push(`pg_dump reads tables with row-level security only as a role the policies do not apply to: as a superuser, ALTER ROLE ${role} BYPASSRLS;`);
  }
  if (facts.serverVersionNum >= 140000 && groups.some((group) => group.kind === 'table' || group.kind === 'sequence' || group.kind === 'schema')) {
    parts.push(`(A superuser may instead make ${user} a member of pg_read_all_data, which reads every table, sequence and schema${facts.serverVersionNum >= 190000 ? ' and large object' : ''}.)`);
  }
  // The catalogs belong to the bootstrap superuser: no owner to name there.
  parts.push(owners.length > 0 ? `Or connect as their owner (${owners.slice(0, 3).join(', ')}${owners.length > 3 ? ', ...' : ''}) in the remote's URL.` : "Or connect as a superuser in the remote's URL.");
  return { ...failed('read', detail, parts.join(' ')), code: 'PERMISSION_DENIED' };
}

/**
 * The `read` check of an existing target database, over a connection to it. A failure to
 * inspect (a catalog the role may not read) is itself a failed check, never a throw.
 */
export async function checkReadAccess(client: pg.Client, facts: ServerFacts): Promise<CheckResult> {
  try {
    const catalogs = (await client.query<DeniedGroup>(CATALOG_SQL, [CATALOGS])).rows;
    // Without the catalogs the objects cannot be listed (nor dumped): report the catalogs alone.
    const groups = catalogs.length > 0 ? catalogs : (await client.query<DeniedGroup>(objectsSql(facts.serverVersionNum))).rows;
    if (groups.length > 0) return deniedCheck(groups, facts);
    const counts = (
      await client.query<{ tables: number; sequences: number; objects: number }>(
        `SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p'))::int AS tables, count(*) FILTER (WHERE c.relkind = 'S')::int AS sequences,
                (SELECT count(*)::int FROM pg_largeobject_metadata) AS objects
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'S') AND c.relpersistence <> 't' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'`,
      )
    ).rows[0];
    const what = counts ? `${plural(counts.tables, 'table')}, ${plural(counts.sequences, 'sequence')} and ${plural(counts.objects, 'large object')}` : 'everything';
    return passed('read', `${facts.currentUser} may read all ${what} pg_dump reads in ${facts.database}`);
  } catch (error) {
    // Only a refusal is a finding; anything else is a failure of the check itself.
    if ((error as { code?: string } | null)?.code !== '42501') throw error;
    const message = errorMessage(error);
    const explained = explainPermission(message, { user: facts.currentUser, statement: 'SELECT' });
    return {
      ...failed('read', `${facts.currentUser} cannot list what pg_dump would read in ${facts.database}: ${message}`, explained?.hint ?? 'Connect as the owner of the database or as a superuser.'),
      ...(explained ? { code: 'PERMISSION_DENIED' as const } : {}),
    };
  }
}
