import { describe, expect, it } from 'vitest';
import type { MigrationFile } from '../../src/migrate/files.js';
import { compareMigrations } from '../../src/migrate/status.js';
import type { MigrationRow, MigrationRowStatus } from '../../src/migrate/table.js';

function file(id: string, sha256 = `sha-${id}`): MigrationFile {
  return { id, absolutePath: `/repo/${id}`, sha256, noTransaction: false, content: Buffer.from('') };
}

function row(id: string, status: MigrationRowStatus, sha256 = `sha-${id}`): MigrationRow {
  return { id, sha256, status, appliedAt: '2026-01-01T00:00:00.000Z', appliedBy: 'ci@runner', executionMs: 1, error: null, runId: null };
}

describe('compareMigrations (pure: files against the remote\'s records)', () => {
  const a = '6_migration/001_a.sql';
  const b = '6_migration/002_b.sql';
  const c = '6_migration/003_c.sql';
  const cases: Array<{ name: string; files: MigrationFile[]; rows: MigrationRow[]; expected: Record<string, string[]> }> = [
    { name: 'a fresh remote: everything pending', files: [file(a), file(b)], rows: [], expected: { applied: [], pending: [a, b], drifted: [], failed: [], missing: [] } },
    { name: 'applied and baselined count as applied', files: [file(a), file(b)], rows: [row(a, 'success'), row(b, 'baseline')], expected: { applied: [a, b], pending: [], drifted: [], failed: [], missing: [] } },
    { name: 'a changed file is drifted, not pending', files: [file(a, 'edited'), file(b)], rows: [row(a, 'success')], expected: { applied: [], pending: [b], drifted: [a], failed: [], missing: [] } },
    { name: 'a failed one is pending again, and failed', files: [file(a), file(b)], rows: [row(a, 'success'), row(b, 'failed')], expected: { applied: [a], pending: [b], drifted: [], failed: [b], missing: [] } },
    { name: 'rolled back (by a restore) is pending again', files: [file(a)], rows: [row(a, 'rolled_back')], expected: { applied: [], pending: [a], drifted: [], failed: [], missing: [] } },
    { name: 'applied but gone from the repository: missing', files: [file(a)], rows: [row(a, 'success'), row(c, 'success')], expected: { applied: [a], pending: [], drifted: [], failed: [], missing: [c] } },
    { name: 'a gone file that never applied is not missing', files: [file(a)], rows: [row(a, 'success'), row(c, 'failed')], expected: { applied: [a], pending: [], drifted: [], failed: [], missing: [] } },
    { name: 'repository order decides the pending order', files: [file(a), file(b), file(c)], rows: [row(b, 'success')], expected: { applied: [b], pending: [a, c], drifted: [], failed: [], missing: [] } },
  ];
  for (const t of cases) {
    it(t.name, () => {
      const result = compareMigrations(t.files, t.rows);
      expect({ applied: result.applied, pending: result.pending, drifted: result.drifted, failed: result.failed, missing: result.missing }).toEqual(t.expected);
    });
  }
});
