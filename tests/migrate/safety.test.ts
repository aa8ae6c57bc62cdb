import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query } from '../support/db.js';
import { cli, expectNoPasswordLeak } from '../support/backup.js';
import { FIRST, hasDbfastSchema, holdDatabaseLock, json, migrationRows, productionProject, tableExists, writeMigration, type ErrorBody } from '../support/migrate.js';

interface ApplyBody {
  applied: Array<{ id: string; noTransaction: boolean }>;
  drifted: string[];
}

describe('dbfast migrate: drift, transactions, locks, baselines', () => {
  it('detects a migration changed since it was applied, refuses to apply past it, and goes on with --allow-drift', async () => {
    const { account, project } = await productionProject({ prefix: 'mdf', remote: { backup: false } });
    const second = writeMigration(project, '002_a.sql', 'CREATE TABLE app.a (id int);\n');
    await json(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    appendFileSync(path.join(project.repo, FIRST), '-- edited after it was applied\n');
    const third = writeMigration(project, '003_b.sql', 'CREATE TABLE app.b (id int);\n');

    const status = await json<{ drifted: string[]; pending: string[]; ok: boolean }>(project, ['migrate', 'status', '--remote', 'production']);
    expect(status.body).toMatchObject({ drifted: [FIRST], pending: [third], ok: false });
    const check = await cli(project, ['migrate', 'status', '--remote', 'production', '--check']);
    expect(check.exitCode).toBe(3);
    expect(check.stdout).toContain(`DRIFTED  ${FIRST}`);

    const refused = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm'], 1);
    expect(refused.body.error.code).toBe('MIGRATION_DRIFT');
    expect(refused.body.error.message).toContain(FIRST);
    expect(refused.body.error.hint).toContain('--allow-drift');
    expect(await tableExists(account, 'app.b')).toBe(false);

    const allowed = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm', '--allow-drift']);
    expect(allowed.body.applied.map((m) => m.id)).toEqual([third]);
    expect(allowed.body.drifted).toEqual([FIRST]);
    // Drift stays visible: an applied migration is never re-run or silently re-checksummed.
    // Line endings alone (a Windows checkout) are not drift.
    writeFileSync(path.join(project.repo, second), 'CREATE TABLE app.a (id int);\r\n');
    const after = await json<{ drifted: string[]; applied: string[] }>(project, ['migrate', 'status', '--remote', 'production']);
    expect(after.body).toMatchObject({ drifted: [FIRST], applied: [second, third] });
  });

  it('runs a no-transaction migration (CREATE INDEX CONCURRENTLY) as written, and refuses one that needs it but lacks the marker', async () => {
    const { account, project } = await productionProject({ prefix: 'mnt', remote: { backup: false } });
    const bad = writeMigration(project, '002_index.sql', 'SELECT 1;\nCREATE INDEX CONCURRENTLY customer_name ON app.customer (name);\n');
    const refused = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm'], 1);
    expect(refused.body.error.code).toBe('MIGRATION_NEEDS_NO_TRANSACTION');
    expect(refused.body.error.message).toContain(`${bad}:2:`);
    expect(refused.body.error.hint).toContain('-- dbfast:no-transaction');
    // Checked before anything ran: not even the migration before it.
    expect(await hasDbfastSchema(account)).toBe(false);

    writeMigration(project, '002_index.sql', '-- dbfast:no-transaction\nCREATE INDEX CONCURRENTLY customer_name ON app.customer (name);\n');
    const single = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm', '--single-transaction'], 2);
    expect(single.body.error.code).toBe('MIGRATION_NO_TRANSACTION');

    const { body } = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(body.applied).toEqual([expect.objectContaining({ id: FIRST, noTransaction: false }), expect.objectContaining({ id: bad, noTransaction: true })]);
    const index = await query<{ valid: boolean }>(account.adminDbUrl, "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'app.customer_name'::regclass");
    expect(index).toEqual([{ valid: true }]);
    expect((await migrationRows(account)).map((r) => [r.id, r.status])).toEqual([[FIRST, 'success'], [bad, 'success']]);

    const control = writeMigration(project, '003_commit.sql', 'BEGIN;\nCREATE TABLE app.c (id int);\nCOMMIT;\n');
    const controlled = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm'], 1);
    expect(controlled.body.error.code).toBe('MIGRATION_TRANSACTION_CONTROL');
    expect(controlled.body.error.message).toContain(`${control}:1:`);
  });

  it('lets one applier at a time work on a database: a held lock times out, two appliers at once apply each migration once', async () => {
    const { account, project } = await productionProject({ prefix: 'mlk', remote: { backup: false } });
    // Not idempotent: a second run of any of them would fail.
    writeMigration(project, '002_slow.sql', 'CREATE TABLE app.once (id int);\nSELECT pg_sleep(0.5);\n');
    writeMigration(project, '003_more.sql', 'INSERT INTO app.once VALUES (1);\nCREATE TABLE app.twice (id int);\n');

    const release = await holdDatabaseLock(account.database);
    try {
      const busy = await json<ErrorBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm', '--lock-timeout', '1'], 1);
      expect(busy.body.error.code).toBe('LOCK_TIMEOUT');
      expect(await hasDbfastSchema(account)).toBe(false);
    } finally {
      await release();
    }

    const [a, b] = await Promise.all([
      cli(project, ['--json', 'migrate', 'apply', '--remote', 'production', '--confirm']),
      cli(project, ['--json', 'migrate', 'apply', '--remote', 'production', '--confirm']),
    ]);
    expect([a.exitCode, b.exitCode], a.stdout + a.stderr + b.stdout + b.stderr).toEqual([0, 0]);
    const applied = [a, b].flatMap((r) => parseJson<ApplyBody>(r).applied.map((m) => m.id)).sort();
    expect(applied).toEqual([FIRST, '6_migration/002_slow.sql', '6_migration/003_more.sql']);
    expect(await query(account.adminDbUrl, 'SELECT id FROM app.once')).toEqual([{ id: 1 }]);
    expectNoPasswordLeak([account.password], []);
  });

  it('mark-applied baselines a migration without running it and refuses unknown ids', async () => {
    const { account, project } = await productionProject({ prefix: 'mma', remote: { backup: false } });
    const second = writeMigration(project, '002_a.sql', 'CREATE TABLE app.a (id int);\n');

    const unknown = await json<ErrorBody>(project, ['migrate', 'mark-applied', '--remote', 'production', '--confirm', '6_migration/nope.sql'], 2);
    expect(unknown.body.error.code).toBe('MIGRATION_UNKNOWN');
    expect(unknown.body.error.message).toContain('6_migration/nope.sql');
    expect(await hasDbfastSchema(account)).toBe(false);
    const unconfirmed = await json<ErrorBody>(project, ['migrate', 'mark-applied', '--remote', 'production', FIRST], 2);
    expect(unconfirmed.body.error.code).toBe('CONFIRMATION_REQUIRED');

    // The column already exists on this database (made by hand): the migration must not run.
    await query(account.adminDbUrl, 'ALTER TABLE app.customer ADD COLUMN phone text');
    const { body } = await json<{ marked: Array<{ id: string; previous: string | null }> }>(project, ['migrate', 'mark-applied', '--remote', 'production', '--confirm', FIRST]);
    expect(body.marked).toEqual([expect.objectContaining({ id: FIRST, previous: null })]);
    const rows = await migrationRows(account);
    expect(rows.map((r) => [r.id, r.status, r.run_id])).toEqual([[FIRST, 'baseline', null]]);

    const status = await json<{ applied: string[]; pending: string[] }>(project, ['migrate', 'status', '--remote', 'production']);
    expect(status.body).toMatchObject({ applied: [FIRST], pending: [second] });
    const applied = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(applied.body.applied.map((m) => m.id)).toEqual([second]);
    const history = await cli(project, ['migrate', 'history', '--remote', 'production']);
    expect(history.stdout).toMatch(new RegExp(`baseline\\s+${FIRST}`));
    expect(history.stdout).toMatch(new RegExp(`success\\s+${second}`));
    expectNoPasswordLeak([account.password], []);
  });
});
