import type pg from 'pg';
import { quoteIdent } from '../pg/quote.js';

/** Rows of one table, counted inside the snapshot the dump used. */
export interface TableCount {
  schema: string;
  table: string;
  rows: number;
}

/**
 * Ordinary tables whose rows a dump carries (dbfast's own bookkeeping schema is never dumped:
 * it stays with the live database across restores): user schemas, not temporary, not owned by an
 * extension (CREATE EXTENSION makes those, with its own rows).
 */
const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS table
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbfast')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
ORDER BY 1, 2`;

/** Tables counted per query: one round trip for many tables, but no statement of unbounded size. */
const BATCH = 100;

/** Exact row counts (`count(*)`), in whatever snapshot the client's transaction has. */
export async function countTables(client: pg.Client, only?: Array<{ schema: string; table: string }>): Promise<TableCount[]> {
  const tables = only ?? (await client.query<{ schema: string; table: string }>(TABLES_SQL)).rows;
  const counts: TableCount[] = [];
  for (let start = 0; start < tables.length; start += BATCH) {
    const batch = tables.slice(start, start + BATCH);
    const sql = batch
      .map((t, i) => `SELECT ${i} AS i, count(*)::bigint AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`)
      .join('\nUNION ALL\n');
    const rows = (await client.query<{ i: number; n: string }>(sql)).rows;
    const byIndex = new Map(rows.map((row) => [Number(row.i), Number(row.n)]));
    batch.forEach((t, i) => counts.push({ schema: t.schema, table: t.table, rows: byIndex.get(i) ?? 0 }));
  }
  return counts;
}

/** Which of `expected`'s tables are missing or have other row counts in `actual`, one line each. */
export function compareCounts(expected: TableCount[], actual: TableCount[]): string[] {
  const key = (t: { schema: string; table: string }): string => `${t.schema}\u0000${t.table}`;
  const found = new Map(actual.map((t) => [key(t), t.rows]));
  const problems: string[] = [];
  for (const table of expected) {
    const rows = found.get(key(table));
    const name = `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
    if (rows === undefined) problems.push(`table ${name} is missing`);
    else if (rows !== table.rows) problems.push(`table ${name} has ${rows} rows, the backup recorded ${table.rows}`);
  }
  return problems;
}

/** Counts the backup's tables in a restored database; a missing table is reported, not thrown. */
export async function countExpectedTables(client: pg.Client, expected: TableCount[]): Promise<TableCount[]> {
  const existing = await client.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [expected.map((t) => t.schema), expected.map((t) => t.table)],
  );
  return countTables(client, existing.rows);
}

/** User schemas (not system, not created by an extension), in the client's snapshot. */
export async function listSchemas(client: pg.Client): Promise<string[]> {
  const rows = await client.query<{ name: string }>(
    `SELECT n.nspname AS name FROM pg_namespace n
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbfast') AND n.nspname NOT LIKE 'pg\\_%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
     ORDER BY 1`,
  );
  return rows.rows.map((row) => row.name);
}
