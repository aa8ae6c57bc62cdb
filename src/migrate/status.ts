import type { MigrationFile } from './files.js';
import type { MigrationRow } from './table.js';

/**
 * applied: recorded as success/baseline with the file's checksum; drifted: recorded, but the
 * file changed since; pending: never applied (or its last attempt failed or was rolled back);
 * failed: pending, and its last attempt failed; missing: recorded as applied, no longer in the
 * repository.
 */
export type MigrationState = 'applied' | 'drifted' | 'pending' | 'failed' | 'missing';

/** One migration's state on the remote. */
export interface MigrationEntry {
  id: string;
  state: MigrationState;
  /** The file's checksum; null when the file is missing. */
  sha256: string | null;
  noTransaction: boolean;
  /** What `dbfast.migrations` says about it, if anything. */
  recorded: MigrationRow | null;
}

/** Every migration's state, and the ids of each state. */
export interface MigrationComparison {
  /** Repository order, then the missing ones in the order they were applied. */
  migrations: MigrationEntry[];
  applied: string[];
  /** Everything `apply` would run, in order (failed ones included). */
  pending: string[];
  drifted: string[];
  failed: string[];
  missing: string[];
}

function isApplied(row: MigrationRow): boolean {
  return row.status === 'success' || row.status === 'baseline';
}

/** Compares the repository's migrations with the remote's records; pure. */
export function compareMigrations(files: readonly MigrationFile[], rows: readonly MigrationRow[]): MigrationComparison {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const known = new Set(files.map((file) => file.id));
  const migrations: MigrationEntry[] = files.map((file) => {
    const row = byId.get(file.id) ?? null;
    let state: MigrationState = 'pending';
    if (row && isApplied(row)) state = row.sha256 === file.sha256 ? 'applied' : 'drifted';
    else if (row?.status === 'failed') state = 'failed';
    return { id: file.id, state, sha256: file.sha256, noTransaction: file.noTransaction, recorded: row };
  });
  for (const row of rows) {
    if (!known.has(row.id) && isApplied(row)) migrations.push({ id: row.id, state: 'missing', sha256: null, noTransaction: false, recorded: row });
  }
  const ids = (...states: MigrationState[]): string[] => migrations.filter((m) => states.includes(m.state)).map((m) => m.id);
  return {
    migrations,
    applied: ids('applied'),
    pending: ids('pending', 'failed'),
    drifted: ids('drifted'),
    failed: ids('failed'),
    missing: ids('missing'),
  };
}
