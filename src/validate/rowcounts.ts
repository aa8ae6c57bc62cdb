import type pg from 'pg';
import { countTables } from './tables.js';

/** Exact row counts of every user table, keyed `schema.table`. */
export type RowCounts = Record<string, number>;

export async function rowCounts(client: pg.Client): Promise<RowCounts> {
  const counts: RowCounts = {};
  for (const t of await countTables(client)) counts[`${t.schema}.${t.table}`] = t.rows;
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
