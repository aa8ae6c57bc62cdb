import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { local, query, remote, urlFor } from '../support/db.js';
import { cli, createRemoteAccount, expectNoPasswordLeak, filesIn, asAccount } from '../support/backup.js';
import { snapshot, writeDeployProject } from '../support/deploy.js';

async function liveProducts(adminDbUrl: string): Promise<string[]> {
  const rows = await query<{ sku: string }>(adminDbUrl, 'SELECT sku FROM app.product ORDER BY sku');
  return rows.map((row) => row.sku);
}

async function exists(name: string): Promise<boolean> {
  return (await query(remote.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
}

describe('dbfast deploy', () => {
  it('replaces the remote database with the template, keeps the previous one, records history', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'dep' });
    await asAccount(account, 'CREATE TABLE old_stuff (id int); INSERT INTO old_stuff VALUES (1)');
    const project = writeDeployProject([{ name: 'staging', account, validate: ['select count(*) = 3 from app.product'] }]);

    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    const report = parseJson<Record<string, unknown>>(result);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['remote', 'environment', 'database', 'backupId', 'templateHash', 'durationMs', 'phases', 'result']));
    expect(report).toMatchObject({ remote: 'staging', environment: 'staging', database: account.database, result: 'success', mode: 'swap' });
    expect((report.phases as Array<{ name: string }>).map((p) => p.name)).toEqual(['preflight', 'build', 'backup', 'restore', 'validate', 'swap', 'verify']);
    expect(report.backupId).toMatch(/^\d{8}T\d{6}Z/);

    expect(await liveProducts(account.adminDbUrl)).toEqual(['SKU-001', 'SKU-002', 'SKU-003']);
    expect(await query(account.adminDbUrl, "SELECT 1 FROM pg_class WHERE relname = 'old_stuff'")).toHaveLength(0);
    expect(await exists(`${account.database}__dbfast_prev`)).toBe(true);
    expect(await exists(`${account.database}__dbfast_new`)).toBe(false);
    const prevRows = await query(urlFor(remote.adminUrl, `${account.database}__dbfast_prev`), 'SELECT * FROM old_stuff');
    expect(prevRows).toHaveLength(1);
    // The new objects belong to the deploying user (no_owner), not to the template's owner.
    const owner = await query<{ owner: string }>(account.adminDbUrl, "SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'product'");
    expect(owner[0]?.owner).toBe(account.role);

    const second = await cli(project, ['--json', 'deploy', 'staging']);
    expect(second.exitCode, second.stderr).toBe(0);
    const history = await cli(project, ['--json', 'history', '--remote', 'staging']);
    const deploys = parseJson<{ source: string; deploys: Array<{ result: string; kind: string; backupId: string }> }>(history);
    expect(deploys.source).toBe('remote');
    expect(deploys.deploys.map((d) => [d.kind, d.result])).toEqual([['deploy', 'success'], ['deploy', 'success']]);
    expect(readdirSync(path.join(project.dir, '.dbfast', 'history'))).toEqual(['staging.jsonl']);
    expect(filesIn(path.join(project.backupDir, 'staging')).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    expectNoPasswordLeak([account.password], [path.join(project.backupDir, 'staging'), path.join(project.dir, '.dbfast', 'history')]);
  });

  it('refuses before any change: production without --confirm, env mismatch, --skip-backup on production, --mode replace with allow_destructive = false, a missing role', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'ref' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (42)');
    const before = snapshot(account.adminDbUrl);
    const cases: Array<{ remote: Parameters<typeof writeDeployProject>[0][number]; args: string[]; code: string; extraSql?: string }> = [
      { remote: { name: 'production', account, environment: 'production' }, args: ['deploy', '--remote', 'production'], code: 'CONFIRMATION_REQUIRED' },
      { remote: { name: 'staging', account }, args: ['deploy', '--remote', 'staging', '--env', 'production'], code: 'ENVIRONMENT_MISMATCH' },
      { remote: { name: 'production', account, environment: 'production' }, args: ['deploy', '--remote', 'production', '--confirm', '--skip-backup'], code: 'BACKUP_REQUIRED' },
      // Without --mode such a remote gets its migrations instead (tests/migrate/deploy-migrate.test.ts).
      { remote: { name: 'staging', account, allowDestructive: false }, args: ['deploy', '--remote', 'staging', '--mode', 'replace'], code: 'DESTRUCTIVE_NOT_ALLOWED' },
      {
        remote: { name: 'staging', account },
        args: ['deploy', '--remote', 'staging'],
        code: 'PREFLIGHT_FAILED',
        extraSql: `DO $$ BEGIN CREATE ROLE dbfast_test_reporting; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
                   GRANT SELECT ON app.product TO dbfast_test_reporting;`,
      },
    ];
    for (const c of cases) {
      const project = writeDeployProject([c.remote], { extraSql: c.extraSql });
      const result = await cli(project, ['--json', ...c.args]);
      const error = parseJson<{ error: { code: string; message: string; hint: string } }>(result).error;
      expect(error.code, result.stdout).toBe(c.code);
      expect(error.hint).toBeTruthy();
      expect(result.exitCode).not.toBe(0);
      if (c.code === 'PREFLIGHT_FAILED') expect(error.message).toContain('dbfast_test_reporting');
      expect(snapshot(account.adminDbUrl)).toBe(before);
      expect(await exists(`${account.database}__dbfast_new`)).toBe(false);
      expect(filesIn(project.backupDir)).toEqual([]);
    }
    expectNoPasswordLeak([account.password], []);
  });

  it('writes nothing on --dry-run, and prints the plan with the checks', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'dry' });
    await asAccount(account, 'CREATE TABLE keep_me (id int)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'production', account, environment: 'production' }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'production', '--dry-run']);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = parseJson<{ result: string; plan: { template: { state: string }; checks: Array<{ name: string; ok: boolean }>; steps: string[] } }>(result);
    expect(report.result).toBe('dry_run');
    expect(report.plan.template.state).toBe('missing');
    expect(report.plan.checks.find((c) => c.name === 'connect')?.ok).toBe(true);
    expect(report.plan.steps.length).toBeGreaterThan(3);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(existsSync(path.join(project.dir, '.dbfast', 'history'))).toBe(false);
    expect(filesIn(project.backupDir)).toEqual([]);
    expect(await query(local.adminUrl, 'SELECT 1 FROM pg_database WHERE starts_with(datname, $1)', [project.templateName])).toHaveLength(0);
    const human = await cli(project, ['deploy', '--remote', 'production', '--dry-run']);
    expect(human.stdout).toContain('nothing was changed');
  });
});
