import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { query } from '../support/db.js';
import { cli, expectNoPasswordLeak, filesIn } from '../support/backup.js';
import { columnExists, FIRST, hasDbfastSchema, json, migrationRows, productionProject, tableExists, writeMigration, type ErrorBody } from '../support/migrate.js';

interface StatusBody {
  tracked: boolean;
  applied: string[];
  pending: string[];
  drifted: string[];
  failed: string[];
  missing: string[];
  ok: boolean;
  migrations: Array<{ id: string; state: string }>;
}

interface ApplyBody {
  result: string;
  runId: string | null;
  backupId: string | null;
  applied: Array<{ id: string; executionMs: number }>;
  wouldApply: Array<{ id: string; noTransaction: boolean }>;
  drifted: string[];
  later: string[];
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('dbfast migrate status / apply', () => {
  it('reports every migration as pending on a fresh remote, creating nothing', async () => {
    const { account, project } = await productionProject({ prefix: 'mst' });
    const second = writeMigration(project, '002_notes.sql', 'CREATE TABLE app.note (id int PRIMARY KEY, body text);\n');
    const { body } = await json<StatusBody>(project, ['migrate', 'status', '--remote', 'production']);
    expect(body).toMatchObject({ tracked: false, applied: [], pending: [FIRST, second], drifted: [], missing: [], failed: [], ok: false });
    const check = await cli(project, ['migrate', 'status', '--remote', 'production', '--check']);
    expect(check.exitCode).toBe(3);
    expect(check.stdout).toContain(`PENDING  ${second}`);
    expect(check.stdout).toContain('0 applied, 2 pending');
    expect(await hasDbfastSchema(account)).toBe(false);
    const mismatch = await json<ErrorBody>(project, ['migrate', 'status', '--remote', 'production', '--env', 'staging'], 2);
    expect(mismatch.body.error.code).toBe('ENVIRONMENT_MISMATCH');
    expectNoPasswordLeak([account.password], []);
  });

  it('applies three migrations in order, each recorded with its checksum, after a backup; then has nothing to do', async () => {
    const { account, project } = await productionProject({ prefix: 'map' });
    const second = writeMigration(project, '002_notes.sql', 'CREATE TABLE app.note (id int PRIMARY KEY, body text);\n');
    const third = writeMigration(project, '010_note_rows.sql', "INSERT INTO app.note VALUES (1, 'first');\n");
    await asCustomer(account);

    const refused = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production'], 2);
    expect(refused.body.error.code).toBe('CONFIRMATION_REQUIRED');
    expect(await hasDbfastSchema(account)).toBe(false);

    const { body } = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(body.result).toBe('success');
    expect(body.applied.map((m) => m.id)).toEqual([FIRST, second, third]);
    expect(body.backupId).toMatch(/^\d{8}T\d{6}Z/);
    expect(filesIn(path.join(project.backupDir, 'production'))).toContain(`${body.backupId}.json`);
    expect(await columnExists(account, 'app.customer', 'phone')).toBe(true);
    expect(await query(account.adminDbUrl, 'SELECT body FROM app.note')).toEqual([{ body: 'first' }]);
    // The customer written before the migrations is still there.
    expect(await query(account.adminDbUrl, 'SELECT email FROM app.customer')).toEqual([{ email: 'ann@example.com' }]);

    const rows = await migrationRows(account);
    expect(rows.map((r) => [r.id, r.status, r.run_id])).toEqual([FIRST, second, third].map((id) => [id, 'success', body.runId]));
    expect(rows.map((r) => r.sha256)).toEqual([FIRST, second, third].map((id) => sha256(path.join(project.repo, id))));
    const runs = await query<{ kind: string; result: string; backup_id: string }>(account.adminDbUrl, 'SELECT kind, result, backup_id FROM dbfast.deploy_history WHERE deploy_id = $1', [body.runId]);
    expect(runs).toEqual([{ kind: 'migrate', result: 'success', backup_id: body.backupId }]);

    const status = await cli(project, ['migrate', 'status', '--remote', 'production', '--check']);
    expect(status.exitCode, status.stdout).toBe(0);
    expect(status.stdout).toContain(`APPLIED  ${third}`);
    const history = await json<{ migrations: Array<{ id: string; status: string; appliedBy: string }> }>(project, ['migrate', 'history', '--remote', 'production']);
    expect(history.body.migrations.map((m) => m.id)).toEqual([FIRST, second, third]);
    expect(history.body.migrations[0]?.appliedBy).toContain('@');

    const again = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(again.body).toMatchObject({ applied: [], backupId: null, runId: null });
    expect(filesIn(path.join(project.backupDir, 'production')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    const human = await cli(project, ['migrate', 'apply', '--remote', 'production', '--yes']);
    expect(human.stdout).toContain('no pending migrations');
    expectNoPasswordLeak([account.password], [path.join(project.backupDir, 'production'), path.join(project.dir, '.dbfast', 'history')]);
  });

  it('--to stops after the named migration; an unknown id is refused', async () => {
    const { account, project } = await productionProject({ prefix: 'mto', remote: { backup: false } });
    const second = writeMigration(project, '002_a.sql', 'CREATE TABLE app.a (id int);\n');
    const third = writeMigration(project, '003_b.sql', 'CREATE TABLE app.b (id int);\n');
    const unknown = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm', '--to', '6_migration/999.sql'], 2);
    expect(unknown.body.error.code).toBe('MIGRATION_UNKNOWN');
    const { body } = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm', '--to', second]);
    expect(body.applied.map((m) => m.id)).toEqual([FIRST, second]);
    expect(body.later).toEqual([third]);
    expect(await tableExists(account, 'app.b')).toBe(false);
  });

  it('stops at a failing second migration: the first stays applied, the second rolls back and is recorded as failed at file:line, the third does not run', async () => {
    const { account, project } = await productionProject({ prefix: 'mfl' });
    const second = writeMigration(project, '002_broken.sql', 'CREATE TABLE app.half_done (id int);\n\nINSERT INTO app.no_such_table VALUES (1);\n');
    const third = writeMigration(project, '003_after.sql', 'CREATE TABLE app.after_broken (id int);\n');

    const { body, result } = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm'], 1);
    const error = body.error as ErrorBody['error'] & { migration: string; backupId: string; applied: string[]; notRun: string[]; sql: { file: string; line: number } };
    expect(error.code).toBe('MIGRATION_FAILED');
    expect(error.details).toMatchObject({ migration: second, applied: [FIRST], notRun: [third], sql: { file: second, line: 3 } });
    expect(error.message).toContain(`${second}:3:`);
    expect(error.details.backupId).toMatch(/^\d{8}T\d{6}Z/);
    expect(error.hint).toContain(`dbfast backup restore --remote production --backup-id ${error.details.backupId}`);
    expect(result.stdout).not.toContain(account.password);

    expect(await columnExists(account, 'app.customer', 'phone')).toBe(true);
    expect(await tableExists(account, 'app.half_done')).toBe(false);
    expect(await tableExists(account, 'app.after_broken')).toBe(false);
    const rows = await migrationRows(account);
    expect(rows.map((r) => [r.id, r.status])).toEqual([[FIRST, 'success'], [second, 'failed']]);
    expect(rows[1]?.error).toContain(`${second}:3:`);
    expect(rows[1]?.error).toContain('no_such_table');
    const runs = await query<{ kind: string; result: string; backup_id: string }>(account.adminDbUrl, 'SELECT kind, result, backup_id FROM dbfast.deploy_history');
    expect(runs).toEqual([{ kind: 'migrate', result: 'failed', backup_id: error.details.backupId }]);

    // The human error output names the file, the line and the backup to restore.
    const human = await cli(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toContain(`${second}:3:`);
    expect(human.stderr).toMatch(/dbfast backup restore --remote production --backup-id \d{8}T\d{6}Z/);
    const status = await json<StatusBody>(project, ['migrate', 'status', '--remote', 'production']);
    expect(status.body).toMatchObject({ applied: [FIRST], pending: [second, third], failed: [second] });

    writeMigration(project, '002_broken.sql', 'CREATE TABLE app.half_done (id int);\n');
    const fixed = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(fixed.body.applied.map((m) => m.id)).toEqual([second, third]);
    expect((await migrationRows(account)).map((r) => r.status)).toEqual(['success', 'success', 'success']);
    expectNoPasswordLeak([account.password], [path.join(project.backupDir, 'production')]);
  });

  it('--single-transaction applies all or nothing', async () => {
    const { account, project } = await productionProject({ prefix: 'mst1', remote: { backup: false } });
    const second = writeMigration(project, '002_a.sql', 'CREATE TABLE app.a (id int);\n');
    const third = writeMigration(project, '003_fails.sql', 'SELECT 1;\nSELECT 1 / 0;\n');
    const { body } = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm', '--single-transaction'], 1);
    expect(body.error).toMatchObject({ code: 'MIGRATION_FAILED', details: { migration: third, rolledBack: [FIRST, second], applied: [] } });
    expect(await columnExists(account, 'app.customer', 'phone')).toBe(false);
    expect(await tableExists(account, 'app.a')).toBe(false);
    expect((await migrationRows(account)).map((r) => [r.id, r.status])).toEqual([[FIRST, 'rolled_back'], [second, 'rolled_back'], [third, 'failed']]);

    writeMigration(project, '003_fails.sql', 'SELECT 1;\n');
    const ok = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm', '--single-transaction']);
    expect(ok.body.applied.map((m) => m.id)).toEqual([FIRST, second, third]);
    expect(await tableExists(account, 'app.a')).toBe(true);
  });

  it('lists what would run on --dry-run and writes nothing, not even the tracking table', async () => {
    const { account, project } = await productionProject({ prefix: 'mdr' });
    const second = writeMigration(project, '002_idx.sql', '-- dbfast:no-transaction\nCREATE INDEX CONCURRENTLY customer_name ON app.customer (name);\n');
    const { body } = await json<ApplyBody & { backup: boolean }>(project, ['migrate', 'apply', '--remote', 'production', '--dry-run']);
    expect(body).toMatchObject({ result: 'dry_run', runId: null, backupId: null, applied: [], backup: true });
    expect(body.wouldApply).toEqual([{ id: FIRST, noTransaction: false }, { id: second, noTransaction: true }]);
    const human = await cli(project, ['migrate', 'apply', '--remote', 'production', '--dry-run']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toContain(`${second}  (no transaction)`);
    expect(human.stdout).toContain('nothing was changed');
    expect(await hasDbfastSchema(account)).toBe(false);
    expect(await columnExists(account, 'app.customer', 'phone')).toBe(false);
    expect(filesIn(project.backupDir)).toEqual([]);
    expect(existsSync(path.join(project.dir, '.dbfast', 'history'))).toBe(false);
    expectNoPasswordLeak([account.password], []);
  });
});

/** A row of production data, written before any migration. */
async function asCustomer(account: Parameters<typeof hasDbfastSchema>[0]): Promise<void> {
  await query(account.adminDbUrl, "INSERT INTO app.customer (email, name) VALUES ('ann@example.com', 'Ann')");
}
