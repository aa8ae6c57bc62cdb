import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';

/**
 * pg_dump of a database's schema and data, without what differs between two loads of the same
 * SQL (pg_dump's random `\restrict` key): two databases loaded by different runners compare equal.
 */
export function dumpSchemaAndData(url: string): string {
  const pgBinDir = inject('pgBinDir');
  const pgDump = pgBinDir ? path.join(pgBinDir, 'pg_dump') : 'pg_dump';
  const dump = execFileSync(pgDump, ['--no-owner', '--dbname', url], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return dump
    .split('\n')
    .filter((line) => !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict'))
    .join('\n');
}
