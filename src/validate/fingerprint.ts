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

/**
 * Session settings that change how the server prints definitions and constants: with
 * `search_path` naming a schema (a role named like it gets one through "$user"), references
 * into it print unqualified; DateStyle, TimeZone, IntervalStyle, bytea_output and friends
 * change how default values print. Pinned while fingerprinting, so two databases compare
 * by what they contain, not by who looks.
 */
export const FINGERPRINT_SETTINGS: ReadonlyArray<readonly [string, string]> = [
  ['search_path', ''],
  ['quote_all_identifiers', 'off'],
  ['standard_conforming_strings', 'on'],
  ['DateStyle', 'ISO, YMD'],
  ['IntervalStyle', 'postgres'],
  ['TimeZone', 'UTC'],
  ['extra_float_digits', '1'],
  ['bytea_output', 'hex'],
  ['lc_monetary', 'C'],
];

/**
 * The schema of the database `client` is connected to. Reads only; the session's settings are
 * pinned for the duration (FINGERPRINT_SETTINGS) and put back as they were.
 */
export async function schemaFingerprint(client: pg.Client): Promise<SchemaFingerprint> {
  const names = FINGERPRINT_SETTINGS.map(([name]) => name);
  const before = await client.query<{ name: string; value: string }>('SELECT n AS name, current_setting(n) AS value FROM unnest($1::text[]) AS n', [names]);
  const set = (pairs: ReadonlyArray<readonly [string, string]>): Promise<unknown> =>
    client.query('SELECT set_config(n, v, false) FROM unnest($1::text[], $2::text[]) AS t(n, v)', [pairs.map(([n]) => n), pairs.map(([, v]) => v)]);
  await set(FINGERPRINT_SETTINGS);
  try {
    const union = QUERIES.map((q) => `(${q})`).join('\n UNION ALL \n');
    const result = await client.query<{ line: string | null }>(`SELECT line FROM (${union}) AS objects(line)`);
    const objects = result.rows.flatMap((row) => (row.line === null ? [] : [row.line])).sort();
    return { hash: sha256(objects.join('\n')), objects };
  } finally {
    // In a failed transaction this cannot run, and need not: the abort undoes set_config too.
    await set(before.rows.map((row) => [row.name, row.value] as const)).catch(() => undefined);
  }
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
