import type pg from 'pg';
import { quoteIdent } from '../pg/quote.js';

/** Exact row counts of every user table, keyed `schema.table`. */
export type RowCounts = Record<string, number>;

export async function userTables(client: pg.Client): Promise<Array<{ schema: string; table: string }>> {
  const result = await client.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'dbfast')
        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 1, 2`,
  );
  return result.rows;
}

/** One query for all tables (count(*) of each, as one UNION ALL), so a thousand tables cost one round trip. */
export async function rowCounts(client: pg.Client): Promise<RowCounts> {
  const tables = await userTables(client);
  if (tables.length === 0) return {};
  const parts = tables.map(
    (t, i) => `SELECT ${i} AS i, count(*)::bigint AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`,
  );
  const result = await client.query<{ i: number; n: string }>(parts.join(' UNION ALL '));
  const counts: RowCounts = {};
  for (const row of result.rows) {
    const table = tables[row.i];
    if (table) counts[`${table.schema}.${table.table}`] = Number(row.n);
  }
  return counts;
}

export interface RowCountDifference {
  table: string;
  expected: number | undefined;
  actual: number | undefined;
}

export function compareRowCounts(expected: RowCounts, actual: RowCounts): RowCountDifference[] {
  const tables = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return tables
    .filter((table) => expected[table] !== actual[table])
    .map((table) => ({ table, expected: expected[table], actual: actual[table] }));
}
