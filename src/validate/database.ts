import { DbfastError } from '../errors.js';
import { withClient } from '../pg/client.js';
import type { DbTarget } from '../pg/target.js';
import { compareFingerprints, schemaFingerprint, type SchemaFingerprint } from './fingerprint.js';
import { compareRowCounts, rowCounts, type RowCounts } from './rowcounts.js';

export interface ExpectedDatabase {
  fingerprint: SchemaFingerprint;
  rowCounts: RowCounts;
}

export interface ValidationOutcome {
  problems: string[];
}

/** Runs a user's validation query: it must return one row whose first column is true. */
async function runValidationQuery(client: import('pg').Client, sql: string): Promise<string | undefined> {
  try {
    const result = await client.query({ text: sql, rowMode: 'array' });
    const value = (result.rows[0] as unknown[] | undefined)?.[0];
    return value === true ? undefined : `validation query returned ${JSON.stringify(value ?? null)}, not true: ${sql}`;
  } catch (error) {
    return `validation query failed (${(error as Error).message}): ${sql}`;
  }
}

/**
 * Checks a database against what it should be: the schema fingerprint and row counts of the
 * template it was restored from (when given), then the remote's own validation queries.
 */
export async function validateDatabase(
  target: DbTarget,
  expected: ExpectedDatabase | undefined,
  queries: readonly string[],
): Promise<ValidationOutcome> {
  return withClient(target, async (client) => {
    const problems: string[] = [];
    if (expected) {
      const diff = compareFingerprints(expected.fingerprint, await schemaFingerprint(client));
      for (const line of diff.missing.slice(0, 20)) problems.push(`schema: missing ${line}`);
      for (const line of diff.unexpected.slice(0, 20)) problems.push(`schema: unexpected ${line}`);
      for (const d of compareRowCounts(expected.rowCounts, await rowCounts(client)).slice(0, 20)) {
        problems.push(`rows: table ${d.table} has ${d.actual ?? 'no table'} rows, the template has ${d.expected ?? 'no table'}`);
      }
    }
    for (const sql of queries) {
      const problem = await runValidationQuery(client, sql);
      if (problem) problems.push(problem);
    }
    return { problems };
  });
}

export function validationError(where: string, problems: string[], hint: string): DbfastError {
  return new DbfastError('VALIDATION_FAILED', `${where} failed validation:\n  ${problems.join('\n  ')}`, {
    hint,
    details: { problems },
  });
}
