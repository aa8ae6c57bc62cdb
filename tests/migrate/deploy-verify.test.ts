import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { local, query, remote } from '../support/db.js';
import { cli, expectNoPasswordLeak, filesIn } from '../support/backup.js';
import { snapshot } from '../support/deploy.js';
import { columnExists, FIRST, hasDbfastSchema, json, migrationRows, productionProject, writeMigration, type ErrorBody } from '../support/migrate.js';

interface DeployBody {
  result: string;
  mode: string;
  migrations: string[];
  backupId: string | null;
  previous: string | null;
  deployId: string;
  phases: Array<{ name: string }>;
  plan?: { mode: string; migrations: string[]; steps: string[]; checks: Array<{ name: string; ok: boolean }> };
}

interface VerifyBody {
  matches: boolean;
  environment: string;
  missingInRemote: string[];
  unexpectedInRemote: string[];
  pendingMigrations: string[];
}

async function databaseExists(name: string): Promise<boolean> {
  return (await query(remote.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
}

describe('dbfast deploy in migrate mode', () => {
  it('applies pending migrations to a remote that may not be replaced, keeping its data; --mode replace stays refused', async () => {
    const { account, project } = await productionProject({ prefix: 'mdp', remote: { validate: ['select count(*) = 2 from app.customer'] } });
    await query(account.adminDbUrl, "INSERT INTO app.customer (email, name) VALUES ('ann@example.com', 'Ann'), ('bob@example.com', 'Bob')");
    const second = writeMigration(project, '002_product_note.sql', 'ALTER TABLE app.product ADD COLUMN note text;\n');

    const replace = await json<ErrorBody>(project, ['deploy', '--remote', 'production', '--confirm', '--mode', 'replace'], 2);
    expect(replace.body.error.code).toBe('DESTRUCTIVE_NOT_ALLOWED');
    expect(replace.body.error.hint).toContain('--mode migrate');
    const unconfirmed = await json<ErrorBody>(project, ['deploy', '--remote', 'production'], 2);
    expect(unconfirmed.body.error.code).toBe('CONFIRMATION_REQUIRED');
    expect(await hasDbfastSchema(account)).toBe(false);

    const before = snapshot(account.adminDbUrl);
    const dry = await json<DeployBody>(project, ['deploy', '--remote', 'production', '--dry-run']);
    expect(dry.body).toMatchObject({ result: 'dry_run', mode: 'migrate', migrations: [FIRST, second] });
    expect(dry.body.plan?.checks.find((c) => c.name === 'connect')?.ok).toBe(true);
    const dryHuman = await cli(project, ['deploy', '--remote', 'production', '--dry-run']);
    expect(dryHuman.stdout).toContain(`  ${second}`);
    expect(dryHuman.stdout).toContain('nothing was changed');
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(await hasDbfastSchema(account)).toBe(false);
    expect(filesIn(project.backupDir)).toEqual([]);

    const { body } = await json<DeployBody>(project, ['deploy', '--remote', 'production', '--confirm']);
    expect(body).toMatchObject({ result: 'success', mode: 'migrate', migrations: [FIRST, second], previous: null });
    expect(body.phases.map((p) => p.name)).toEqual(['preflight', 'backup', 'migrate', 'validate']);
    expect(body.backupId).toMatch(/^\d{8}T\d{6}Z/);
    expect(await query(account.adminDbUrl, 'SELECT email FROM app.customer ORDER BY email')).toEqual([{ email: 'ann@example.com' }, { email: 'bob@example.com' }]);
    expect(await columnExists(account, 'app.product', 'note')).toBe(true);
    expect(await columnExists(account, 'app.customer', 'phone')).toBe(true);
    for (const suffix of ['__dbfast_new', '__dbfast_prev']) expect(await databaseExists(`${account.database}${suffix}`)).toBe(false);
    expect((await migrationRows(account)).map((r) => [r.id, r.status, r.run_id])).toEqual([[FIRST, 'success', body.deployId], [second, 'success', body.deployId]]);
    const history = await json<{ deploys: Array<{ kind: string; result: string; backupId: string }> }>(project, ['history', '--remote', 'production']);
    expect(history.body.deploys.map((d) => [d.kind, d.result, d.backupId])).toEqual([['deploy', 'success', body.backupId]]);

    const again = await cli(project, ['deploy', '--remote', 'production', '--confirm']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('migrations applied: none (nothing pending)');
    expectNoPasswordLeak([account.password], [path.join(project.backupDir, 'production'), path.join(project.dir, '.dbfast', 'history')]);
  });

  it('keeps the migration records through a replace deploy; --mode migrate works on a remote that could be replaced', async () => {
    const { account, project } = await productionProject({ prefix: 'mdk', remote: { name: 'staging', environment: 'staging', allowDestructive: true, backup: false } });
    const applied = await json<DeployBody>(project, ['deploy', '--remote', 'staging', '--mode', 'migrate']);
    expect(applied.body).toMatchObject({ mode: 'migrate', migrations: [FIRST] });
    const replaced = await json<DeployBody>(project, ['deploy', '--remote', 'staging']);
    expect(replaced.body.mode).toBe('swap');
    // The new database came from the template (seed rows), and the records came with it.
    expect(await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product')).toEqual([{ n: 3 }]);
    expect((await migrationRows(account)).map((r) => [r.id, r.status])).toEqual([[FIRST, 'success']]);
  });

  it('fails when the validate queries fail after the migrations, naming the backup to restore', async () => {
    const { account, project } = await productionProject({ prefix: 'mdv', remote: { validate: ['select count(*) = 99 from app.customer'] } });
    const { body } = await json<ErrorBody>(project, ['deploy', '--remote', 'production', '--confirm'], 1);
    expect(body.error.code).toBe('VALIDATION_FAILED');
    const history = await json<{ deploys: Array<{ kind: string; result: string; backupId: string }> }>(project, ['history', '--remote', 'production']);
    expect(history.body.deploys[0]).toMatchObject({ kind: 'deploy', result: 'failed' });
    expect(body.error.hint).toContain(`--backup-id ${history.body.deploys[0]?.backupId}`);
    expect(await columnExists(account, 'app.customer', 'phone')).toBe(true);
  });
});

describe('dbfast migrate verify', () => {
  it("lists, object by object, where the remote's schema differs from the template's, and exits 3", async () => {
    // The template is built from the schema files only: the migrations' column is not in them.
    const { account, project } = await productionProject({ prefix: 'mvf', remote: { backup: false }, productionDirectories: ['0_schema'] });
    const same = await json<VerifyBody>(project, ['migrate', 'verify', '--remote', 'production', '--env', 'production']);
    expect(same.body).toMatchObject({ matches: true, missingInRemote: [], unexpectedInRemote: [], pendingMigrations: [FIRST] });

    writeMigration(project, '002_product_note.sql', 'ALTER TABLE app.product ADD COLUMN note text;\n');
    await json(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    const { body } = await json<VerifyBody>(project, ['migrate', 'verify', '--remote', 'production', '--env', 'production'], 3);
    expect(body.matches).toBe(false);
    expect(body.missingInRemote).toEqual([]);
    expect(body.unexpectedInRemote).toEqual(['column app.customer.phone text', 'column app.product.note text']);
    const human = await cli(project, ['migrate', 'verify', '--remote', 'production']);
    expect(human.exitCode).toBe(3);
    expect(human.stdout).toContain('unexpected in remote: column app.product.note text');
    // The template's scratch clone is gone from the local server.
    expect(await query(local.adminUrl, "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname LIKE '%dbfast_dump%'", [project.templateName])).toEqual([]);
    expectNoPasswordLeak([account.password], []);
  });

  it('finds no difference when the template gets the same migrations', async () => {
    const { project } = await productionProject({ prefix: 'mvs', remote: { backup: false } });
    await json(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    const { body } = await json<VerifyBody>(project, ['migrate', 'verify', '--remote', 'production']);
    expect(body).toMatchObject({ matches: true, environment: 'production', pendingMigrations: [] });
  });
});
