import { readFile } from 'node:fs/promises';
import type { DbfastConfig } from '../config/types.js';
import { fileInDirectory, findEnvironment } from '../project/filter.js';
import { sha256 } from '../project/hash.js';
import { scanProject } from '../project/scan.js';

/** Where migrations are when `migration_directories` is not set. */
export const DEFAULT_MIGRATION_DIRECTORIES = ['6_migration'];

/** First line of a migration that must run outside a transaction (CREATE INDEX CONCURRENTLY, ...). */
export const NO_TRANSACTION_MARKER = '-- dbfast:no-transaction';

/** One migration, read. */
export interface MigrationFile {
  /** Path relative to its repository (`NAME:path` with named repositories): the migration's identity in `dbfast.migrations`. */
  id: string;
  absolutePath: string;
  /** sha256 of the bytes with CRLF read as LF (so `sha256sum` of an LF file), so a checkout's line endings are not drift. */
  sha256: string;
  /** The first line is `-- dbfast:no-transaction`. */
  noTransaction: boolean;
  content: Buffer;
}

/** sha256 of a migration with CRLF read as LF. */
export function migrationChecksum(content: Buffer): string {
  if (!content.includes('\r\n')) return sha256(content);
  return sha256(Buffer.from(content.toString('latin1').replaceAll('\r\n', '\n'), 'latin1'));
}

function firstLine(content: Buffer): string {
  const text = content.subarray(0, 200).toString('utf8').replace(/^\uFEFF/, '');
  return (text.split('\n')[0] ?? '').trim();
}

/** The environment's `migration_directories`, or the default. */
export function migrationDirectories(config: DbfastConfig, environment: string): string[] {
  return findEnvironment(config, environment).migration_directories ?? DEFAULT_MIGRATION_DIRECTORIES;
}

/**
 * The environment's migrations: the files of its `migration_directories` (whole path segments
 * from the repository root, as everywhere), in the scanner's natural order.
 */
export async function migrationFiles(config: DbfastConfig, environment: string): Promise<MigrationFile[]> {
  const directories = migrationDirectories(config, environment);
  const scanned = await scanProject(config);
  const selected = scanned.filter((file) => directories.some((dir) => fileInDirectory(file, dir)));
  return Promise.all(
    selected.map(async (file) => {
      const content = await readFile(file.absolutePath);
      return {
        id: file.relativePath,
        absolutePath: file.absolutePath,
        sha256: migrationChecksum(content),
        noTransaction: firstLine(content) === NO_TRANSACTION_MARKER,
        content,
      };
    }),
  );
}
