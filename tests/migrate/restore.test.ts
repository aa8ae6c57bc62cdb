import { describe, expect, it } from 'vitest';
import { cli, createRemoteAccount } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';
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

describe('restoring a newer backup after an older one', () => {
  it('marks the migrations the newer backup has as applied again, so they do not run twice', async () => {
    const { account, project } = await productionProject({ prefix: 'mrr' });
    await json(project, ['migrate', 'mark-applied', '--remote', 'production', FIRST, '--confirm']);
    const second = writeMigration(project, '002_customer_note.sql', 'ALTER TABLE app.customer ADD COLUMN note text;\n');
    const before = await json<{ backupId: string }>(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    const after = await json<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'production']);

    await json(project, ['backup', 'restore', '--remote', 'production', '--backup-id', before.body.backupId, '--confirm']);
    expect((await migrationRows(account)).find((row) => row.id === second)?.status).toBe('rolled_back');
    await json(project, ['backup', 'restore', '--remote', 'production', '--backup-id', after.body.backup.id, '--confirm']);
    expect(await columnExists(account, 'app.customer', 'note')).toBe(true);
    expect((await migrationRows(account)).find((row) => row.id === second)).toMatchObject({ status: 'baseline', error: expect.stringContaining(after.body.backup.id) });
    const { body } = await json<StatusBody>(project, ['migrate', 'status', '--remote', 'production']);
    expect(body.pending).toEqual([]);
  });
});

describe("restoring another remote's backup", () => {
  it('keeps the target\'s migration records and says how to record the migrations the restored schema has', async () => {
    const { account: prod, project: prodProject } = await productionProject({ prefix: 'mrx' });
    await json(prodProject, ['migrate', 'mark-applied', '--remote', 'production', FIRST, '--confirm']);
    const staging = await createRemoteAccount({ createdb: true, prefix: 'mrxs' });
    const project = writeDeployProject([
      { name: 'production', account: prod, environment: 'production', allowDestructive: false },
      { name: 'staging', account: staging, environment: 'staging' },
    ]);
    await json(project, ['backup', 'create', '--remote', 'production']);
    const restored = await cli(project, ['backup', 'restore', '--remote', 'staging', '--from-remote', 'production', '--backup-id', 'latest']);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stderr).toContain(`dbfast migrate mark-applied --remote staging ${FIRST}`);
    expect(await columnExists(staging, 'app.customer', 'email')).toBe(true);
    expect(await migrationRows(staging)).toEqual([]);
  });
});
