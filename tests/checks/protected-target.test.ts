import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { query, urlFor } from '../support/db.js';
import { cli, cliJson } from '../support/backup.js';
import { writeDeployProject, type DeployProject } from '../support/deploy.js';
import { findServerBinDir } from '../support/pgbin.js';

interface Check {
  name: string;
  ok: boolean;
  severity: string;
  detail: string;
  hint?: string;
}

function errorOf(result: CliResult): { code: string; message: string; hint: string | null } {
  return parseJson<{ error: { code: string; message: string; hint: string | null } }>(result).error;
}

/**
 * A cluster of this test's own, deployed to as its superuser: were the refusal missing, the
 * superuser would really replace template1, which must not happen to the shared test servers.
 */
describe("PostgreSQL's own databases and templates are never deploy or restore targets", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    const binDir = await findServerBinDir();
    if (!binDir) throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) found: this test starts a cluster of its own');
    cluster = await startCluster({ name: 'protected', binDir, scram: true });
    await query(urlFor(cluster.adminUrl, 'postgres'), 'CREATE DATABASE shop_tpl IS_TEMPLATE true');
  });
  afterAll(() => {
    if (cluster) stopCluster(cluster);
  });

  function projectFor(database: string, environment = 'staging'): DeployProject {
    const account = {
      role: 'postgres',
      password: cluster.superuserPassword,
      database,
      url: `postgresql://postgres@127.0.0.1:${cluster.port}/${database}`,
      adminDbUrl: urlFor(cluster.adminUrl, database),
      passwordEnv: 'PROTECTED_TEST_PW',
    };
    return writeDeployProject([{ name: 'staging', account, environment }]);
  }

  async function userTables(database: string): Promise<number> {
    const rows = await query<{ n: number }>(urlFor(cluster.adminUrl, database), "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')");
    return rows[0]?.n ?? -1;
  }

  it('template1 (a name): refused when dbfast.toml loads, by every command, before anything connects; nothing is written', async () => {
    const project = projectFor('template1');
    for (const args of [['remote', 'test', 'staging'], ['deploy', 'staging', '--dry-run'], ['deploy', 'staging'], ['backup', 'create', '--remote', 'staging']]) {
      const result = await cli(project, ['--json', ...args]);
      expect(result.exitCode, `${args.join(' ')}: ${result.stdout}${result.stderr}`).toBe(2);
      const error = errorOf(result);
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(/remotes\.staging\.url: database "template1" .*template database of PostgreSQL itself/);
    }
    expect(await userTables('template1')).toBe(0);
  });

  // Names the config cannot judge alone (the maintenance database is allowed with a warning; a
  // template is one by pg_database.datistemplate): the server-side checks refuse them.
  it.each([
    ['postgres', /"postgres" is the server's maintenance database/],
    ['shop_tpl', /"shop_tpl" is marked as a template database/],
  ])('%s: remote test fails the database check, deploy and dry run refuse, nothing is written', async (database, reason) => {
    const project = projectFor(database);
    const test = await cli(project, ['--json', 'remote', 'test', 'staging']);
    expect(test.exitCode, test.stdout + test.stderr).toBe(3);
    const check = parseJson<{ checks: Check[] }>(test).checks.find((c) => c.name === 'database');
    expect(check).toMatchObject({ ok: false, severity: 'error' });
    expect(check?.detail).toMatch(reason);
    expect(check?.hint).toContain('remotes.staging.url');

    const dry = await cli(project, ['--json', 'deploy', 'staging', '--dry-run']);
    const dryCheck = parseJson<{ plan: { checks: Check[] } }>(dry).plan.checks.find((c) => c.name === 'database');
    expect(dryCheck).toEqual(check);

    const deployed = await cli(project, ['--json', 'deploy', 'staging']);
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(1);
    const error = errorOf(deployed);
    expect(error.code).toBe('PREFLIGHT_FAILED');
    expect(error.message).toMatch(reason);
    expect(await userTables(database)).toBe(0);
  });

  it('a database marked as a template: backup restore and migrate apply refuse too, under the lock', async () => {
    const project = projectFor('shop_tpl');
    // Reading it is harmless: the backup is what a careless restore would put there.
    const { backup } = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
    const restore = await cli(project, ['--json', 'backup', 'restore', '--remote', 'staging', '--backup-id', backup.id]);
    expect(restore.exitCode, restore.stdout + restore.stderr).toBe(2);
    expect(errorOf(restore)).toMatchObject({ code: 'DATABASE_PROTECTED' });
    expect(errorOf(restore).message).toMatch(/"shop_tpl" is marked as a template database/);

    // An environment with a migration to apply: without the refusal its tracking table would land in shop_tpl.
    const migrate = await cli(projectFor('shop_tpl', 'production'), ['--json', 'migrate', 'apply', '--remote', 'staging', '--confirm']);
    expect(migrate.exitCode, migrate.stdout + migrate.stderr).toBe(2);
    expect(errorOf(migrate).code).toBe('DATABASE_PROTECTED');
    expect(await userTables('shop_tpl')).toBe(0);
    const schemas = await query(urlFor(cluster.adminUrl, 'shop_tpl'), "SELECT 1 FROM pg_namespace WHERE nspname = 'dbfast'");
    expect(schemas).toEqual([]);
  });
});
