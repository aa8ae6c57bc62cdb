import { describe, expect, it } from 'vitest';
import { cli } from '../support/backup.js';
import { columnExists, FIRST, json, migrationRows, productionProject, writeMigration } from '../support/migrate.js';

interface StatusBody {
  applied: string[];
  pending: string[];
}

describe('restoring a backup and the migration records', () => {
  it('marks migrations applied after the backup as rolled back, so they run again', async () => {
    const { account, project } = await productionProject({ prefix: 'mrs' });
    await json(project, ['migrate', 'mark-applied', '--remote', 'production', FIRST, '--confirm']);
    const second = writeMigration(project, '002_customer_note.sql', 'ALTER TABLE app.customer ADD COLUMN note text;\n');
    const applied = await json<{ backupId: string }>(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(await columnExists(account, 'app.customer', 'note')).toBe(true);

    // The backup taken before the apply has FIRST (baselined) but not `second`.
    const restored = await cli(project, ['--json', 'backup', 'restore', '--remote', 'production', '--backup-id', applied.body.backupId, '--confirm']);
    expect(restored.exitCode, restored.stdout + restored.stderr).toBe(0);
    expect(await columnExists(account, 'app.customer', 'note')).toBe(false);
    const rows = await migrationRows(account);
    expect(rows.find((row) => row.id === second)).toMatchObject({ status: 'rolled_back', error: expect.stringContaining(applied.body.backupId) });
    expect(rows.find((row) => row.id === FIRST)?.status).toBe('baseline');

    const { body } = await json<StatusBody>(project, ['migrate', 'status', '--remote', 'production']);
    expect(body.pending).toEqual([second]);
    await json(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(await columnExists(account, 'app.customer', 'note')).toBe(true);
  });
});
