import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { local, query, remote, uniqueName } from '../support/db.js';
import { asAccount, cli, createRemoteAccount, filesIn } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';

const roles: string[] = [];
afterAll(async () => {
  for (const role of roles) {
    for (const server of [remote, local]) await query(server.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
  }
});

async function databaseSettings(adminDbUrl: string): Promise<Array<{ role: string | null; setconfig: string[] }>> {
  return query(
    adminDbUrl,
    `SELECT r.rolname AS role, s.setconfig FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole
      WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY r.rolname NULLS FIRST`,
  );
}

describe('deploy carries the template\'s database settings', () => {
  it('the deployed database has the template\'s settings (they win over the live one\'s), and keeps the live one\'s others', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'dset' });
    await query(account.adminDbUrl, `ALTER DATABASE "${account.database}" SET request.jwt.claim.id = '99'`);
    await query(account.adminDbUrl, `ALTER DATABASE "${account.database}" SET app.settings.kept = 'from the live database'`);
    const project = writeDeployProject([{ name: 'staging', account }], {
      extraSql: `ALTER DATABASE :"DBNAME" SET request.jwt.claim.id = '-1';\nALTER DATABASE :"DBNAME" SET search_path = app, "$user", public;\n`,
    });
    const before = await databaseSettings(account.adminDbUrl);
    // PostgreSQL 15 lets a database's owner set a custom parameter only with SET granted on it: refused before the swap, live untouched.
    const refused = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    const error = parseJson<{ error: { code: string; message: string; hint: string } }>(refused).error;
    expect(error.code, refused.stdout + refused.stderr).toBe('SETTING_NOT_APPLIED');
    expect(error.message).toContain('request.jwt.claim.id = -1');
    expect(error.hint).toContain(`GRANT SET ON PARAMETER "request.jwt.claim.id" TO "${account.role}"`);
    expect(await databaseSettings(account.adminDbUrl)).toEqual(before);
    // Refused before the backup and the restore, not at the swap.
    expect(filesIn(project.backupDir)).toEqual([]);
    expect(await query(account.adminDbUrl, "SELECT to_regclass('app.product') AS t")).toEqual([{ t: null }]);
    await query(remote.adminUrl, `GRANT SET ON PARAMETER request.jwt.claim.id, app.settings.kept TO "${account.role}"`);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(parseJson(result)).toMatchObject({ result: 'success', mode: 'swap' });
    const [settings] = await databaseSettings(account.adminDbUrl);
    expect(settings?.role).toBeNull();
    expect([...(settings?.setconfig ?? [])].sort()).toEqual(['app.settings.kept=from the live database', 'request.jwt.claim.id=-1', 'search_path=app, "$user", public']);
    // A new session on the deployed database sees them, as PostgREST would.
    expect(await asAccount(account, "SELECT current_setting('request.jwt.claim.id') AS claim, current_setting('search_path') AS path, count(*)::int AS n FROM product")).toEqual([
      { claim: '-1', path: 'app, "$user", public', n: 3 },
    ]);
  });

  it('a role the template needs is missing: preflight names `dbfast remote setup`; after it, the deploy passes with the role\'s settings', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'dsetr' });
    // Role-in-database settings of another role need CREATEROLE (PostgreSQL's rule), as does the setup.
    await query(remote.adminUrl, `ALTER ROLE "${account.role}" CREATEROLE`);
    const role = uniqueName('web_anon');
    roles.push(role);
    const project = writeDeployProject([{ name: 'staging', account, noPrivileges: false, noOwner: true }], {
      extraSql: `GRANT USAGE ON SCHEMA app TO "${role}";\nGRANT SELECT ON app.product TO "${role}";\nALTER ROLE "${role}" IN DATABASE :"DBNAME" SET statement_timeout = '3s';\n`,
    });
    mkdirSync(path.join(project.repo, 'cluster'));
    writeFileSync(path.join(project.repo, 'cluster', 'roles.sql'), `DROP ROLE IF EXISTS "${role}";\nCREATE ROLE "${role}" NOLOGIN;\n`);
    const toml = path.join(project.dir, 'dbfast.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('path = "db"\n', 'path = "db"\ncluster_setup = ["cluster/roles.sql"]\n'));
    // The local build ran the cluster setup there; the remote lacks the role.
    const refused = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    const error = parseJson<{ error: { code: string; message: string } }>(refused).error;
    expect(error.code, refused.stdout + refused.stderr).toBe('PREFLIGHT_FAILED');
    expect(error.message).toContain(`"${role}", which does not exist on the remote`);
    expect(error.message).toContain('dbfast remote setup staging');
    const setup = await cli(project, ['--json', 'remote', 'setup', 'staging']);
    expect(setup.exitCode, setup.stderr + setup.stdout).toBe(0);
    const deployed = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(deployed.exitCode, deployed.stderr + deployed.stdout).toBe(0);
    expect(await databaseSettings(account.adminDbUrl)).toEqual([{ role, setconfig: ['statement_timeout=3s'] }]);
    expect(await query(account.adminDbUrl, `SELECT has_table_privilege('${role}', 'app.product', 'SELECT') AS granted`)).toEqual([{ granted: true }]);
  });
});
