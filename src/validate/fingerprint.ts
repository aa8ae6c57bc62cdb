import type pg from 'pg';
import { sha256 } from '../project/hash.js';

/**
 * A database's schema as sorted lines, one per object, plus their hash. Owners and grants are
 * left out (a remote may restore with no_owner / no_privileges), as are dbfast's own schema
 * and the system schemas, so a template and its restored copy compare equal.
 */
export interface SchemaFingerprint {
  hash: string;
  objects: string[];
}

const USER_NAMESPACES = `
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'dbfast')
    AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp%'
`;

// Objects that belong to an extension are the extension's business, not the schema's.
const notFromExtension = (catalog: string, oidColumn: string): string =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oidColumn} AND d.deptype = 'e')`;

const QUERIES: string[] = [
  `SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'`,
  `SELECT 'schema ' || quote_ident(n.nspname) FROM (${USER_NAMESPACES}) n
    WHERE n.nspname <> 'public' AND ${notFromExtension('pg_namespace', 'n.oid')}`,
  `SELECT 'relation ' || c.relkind::text || ' ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname)
     FROM pg_class c JOIN (${USER_NAMESPACES}) n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r','p','v','m','S','f') AND ${notFromExtension('pg_class', 'c.oid')}`,
  `SELECT 'column ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(a.attname)
          || ' ' || format_type(a.atttypid, a.atttypmod)
          || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
          || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
          || CASE WHEN a.attgenerated <> '' THEN ' generated' ELSE '' END
          || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN (${USER_NAMESPACES}) n ON n.oid = c.relnamespace
     LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r','p','v','m','f')
      AND ${notFromExtension('pg_class', 'c.oid')}`,
  `SELECT 'constraint ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ' || quote_ident(con.conname)
          || ' ' || pg_get_constraintdef(con.oid)
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
     JOIN (${USER_NAMESPACES}) n ON n.oid = c.relnamespace`,
  `SELECT 'index ' || pg_get_indexdef(i.indexrelid)
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     JOIN (${USER_NAMESPACES}) n ON n.oid = c.relnamespace
    WHERE ${notFromExtension('pg_class', 'c.oid')}`,
  `SELECT 'view ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ' || md5(pg_get_viewdef(c.oid))
     FROM pg_class c JOIN (${USER_NAMESPACES}) n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v','m') AND ${notFromExtension('pg_class', 'c.oid')}`,
  `SELECT 'function ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname)
          || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || p.prokind::text
          || ' returns ' || coalesce(pg_get_function_result(p.oid), '') || ' ' || md5(coalesce(p.prosrc, ''))
     FROM pg_proc p JOIN (${USER_NAMESPACES}) n ON n.oid = p.pronamespace
    WHERE ${notFromExtension('pg_proc', 'p.oid')}`,
  `SELECT 'trigger ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ' || pg_get_triggerdef(t.oid)
     FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     JOIN (${USER_NAMESPACES}) n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal`,
  `SELECT 'type ' || quote_ident(n.nspname) || '.' || quote_ident(t.typname) || ' ' || t.typtype::text
          || coalesce(' (' || (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder)
                                 FROM pg_enum e WHERE e.enumtypid = t.oid) || ')', '')
     FROM pg_type t JOIN (${USER_NAMESPACES}) n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e','d','r','m')
      AND ${notFromExtension('pg_type', 't.oid')}`,
  `SELECT 'policy ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' ' || quote_ident(pol.polname)
          || ' ' || pol.polcmd::text || ' ' || coalesce(pg_get_expr(pol.polqual, pol.polrelid), '')
     FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
     JOIN (${USER_NAMESPACES}) n ON n.oid = c.relnamespace`,
];

export async function schemaFingerprint(client: pg.Client): Promise<SchemaFingerprint> {
  const union = QUERIES.map((q) => `(${q})`).join('\n UNION ALL \n');
  // pg_get_constraintdef & co. leave out schemas on the search_path: a database whose settings
  // set search_path (`ALTER DATABASE ... SET search_path`) must not print differently from its
  // template, so they print under PostgreSQL's default search_path (what fingerprints always assumed).
  const saved = (await client.query<{ path: string }>("SELECT current_setting('search_path') AS path")).rows[0]?.path ?? '';
  await client.query(`SELECT set_config('search_path', '"$user", public', false)`);
  let result: pg.QueryResult<{ line: string | null }>;
  try {
    result = await client.query<{ line: string | null }>(`SELECT line FROM (${union}) AS objects(line)`);
  } finally {
    await client.query("SELECT set_config('search_path', $1, false)", [saved]);
  }
  const objects = result.rows.flatMap((row) => (row.line === null ? [] : [row.line])).sort();
  return { hash: sha256(objects.join('\n')), objects };
}

export interface SchemaDifference {
  /** Present only in the expected schema (e.g. the template). */
  missing: string[];
  /** Present only in the actual schema (e.g. the remote). */
  unexpected: string[];
}

export function compareFingerprints(expected: SchemaFingerprint, actual: SchemaFingerprint): SchemaDifference {
  const have = new Set(actual.objects);
  const want = new Set(expected.objects);
  return {
    missing: expected.objects.filter((line) => !have.has(line)),
    unexpected: actual.objects.filter((line) => !want.has(line)),
  };
}
