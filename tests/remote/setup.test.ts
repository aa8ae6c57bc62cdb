import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query, remote, uniqueName } from '../support/db.js';
import { cli, createRemoteAccount, type RemoteAccount } from '../support/backup.js';
import { writeDeployProject, type DeployProject } from '../support/deploy.js';

const roles: string[] = [];
afterAll(async () => {
  for (const role of roles) await query(remote.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
});

async function rolesOnRemote(names: string[]): Promise<string[]> {
  const rows = await query<{ rolname: string }>(remote.adminUrl, 'SELECT rolname FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname', [names]);
  return rows.map((row) => row.rolname);
}

/** A project whose cluster setup makes two roles, one a member of the other (PostgREST's shape). */
function setupProject(remotes: Array<{ name: string; account: RemoteAccount; environment?: string }>): { project: DeployProject; anon: string; authenticator: string; made: string[] } {
  const anon = uniqueName('anon');
  const authenticator = uniqueName('authenticator');
  roles.push(authenticator, anon);
  const project = writeDeployProject(remotes);
  mkdirSync(path.join(project.repo, 'cluster'));
  writeFileSync(
    path.join(project.repo, 'cluster', 'roles.sql'),
    `DROP ROLE IF EXISTS "${authenticator}", "${anon}";\nCREATE ROLE "${anon}" NOLOGIN;\nCREATE ROLE "${authenticator}" NOINHERIT;\nGRANT "${anon}" TO "${authenticator}";\n`,
  );
  const toml = path.join(project.dir, 'dbfast.toml');
  writeFileSync(toml, readFileSync(toml, 'utf8').replace('path = "db"\n', 'path = "db"\ncluster_setup = ["cluster/roles.sql"]\n'));
  return { project, anon, authenticator, made: [anon, authenticator].sort() };
}

interface SetupReport {
  remote: string;
  files: string[];
  roles: string[];
  missingRoles: string[];
  dryRun: boolean;
  ran: boolean;
  upToDate: boolean;
}

describe('dbfast remote setup NAME', () => {
  it('--dry-run lists the files and the roles they would create and changes nothing; the run creates them; a second run does nothing', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'rsetup' });
    await query(remote.adminUrl, `ALTER ROLE "${account.role}" CREATEROLE`);
    const { project, anon, authenticator, made } = setupProject([{ name: 'staging', account }]);

    const dry = await cli(project, ['--json', 'remote', 'setup', 'staging', '--dry-run']);
    expect(dry.exitCode, dry.stderr + dry.stdout).toBe(0);
    expect(parseJson<SetupReport>(dry)).toMatchObject({ remote: 'staging', files: ['cluster/roles.sql'], roles: [anon, authenticator], missingRoles: [anon, authenticator], dryRun: true, ran: false, upToDate: false });
    expect(await rolesOnRemote(made)).toEqual([]);
    const text = await cli(project, ['remote', 'setup', 'staging', '--dry-run']);
    expect(text.stdout).toContain('cluster setup files: cluster/roles.sql');
    expect(text.stdout).toContain(`${anon} (missing)`);
    expect(text.stdout).toContain('dry run: would run 1 file; nothing was changed');
    expect(await rolesOnRemote(made)).toEqual([]);

    const run = await cli(project, ['--json', 'remote', 'setup', 'staging']);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(parseJson<SetupReport>(run)).toMatchObject({ ran: true, missingRoles: [anon, authenticator] });
    expect(await rolesOnRemote(made)).toEqual(made);
    expect(await query(remote.adminUrl, `SELECT pg_has_role('${authenticator}', '${anon}', 'MEMBER') AS member`)).toEqual([{ member: true }]);

    const again = await cli(project, ['--json', 'remote', 'setup', 'staging']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(parseJson<SetupReport>(again)).toMatchObject({ ran: false, upToDate: true, missingRoles: [] });
  });

  it('the record of what ran is kept on the remote (a comment line on the connecting role): another machine without .dbfast/cache does not run it again', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'rsetrec' });
    await query(remote.adminUrl, `ALTER ROLE "${account.role}" CREATEROLE`);
    await query(remote.adminUrl, `COMMENT ON ROLE "${account.role}" IS 'deploys staging'`);
    const { project, anon } = setupProject([{ name: 'staging', account }]);
    const run = await cli(project, ['--json', 'remote', 'setup', 'staging']);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    expect(parseJson<SetupReport>(run)).toMatchObject({ ran: true });
    const [described] = await query<{ comment: string }>(remote.adminUrl, "SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1", [account.role]);
    // The user's comment stays; dbfast's line names the project's template_name and the setup's hash.
    expect(described?.comment).toMatch(new RegExp(`^deploys staging\\ndbfast cluster setup ${project.templateName}: [0-9a-f]{64} \\d{4}-`));
    // A setup an older dbfast recorded only in .dbfast/cache: the next run, skipped, records it on the remote.
    await query(remote.adminUrl, `COMMENT ON ROLE "${account.role}" IS 'deploys staging'`);
    const skipped = await cli(project, ['--json', 'remote', 'setup', 'staging']);
    expect(parseJson<SetupReport>(skipped)).toMatchObject({ ran: false, upToDate: true });
    const [again1] = await query<{ comment: string }>(remote.adminUrl, "SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1", [account.role]);
    const recordOf = (comment: string | undefined): string | undefined => comment?.split('\n')[1]?.split(' ').slice(0, 5).join(' ');
    expect(recordOf(again1?.comment)).toBe(recordOf(described?.comment));
    // Another machine: a clone of the project has no .dbfast/cache. Its DROP ROLE would now fail (the role is in use).
    const cache = path.join(project.dir, '.dbfast', 'cache', 'cluster-setup.json');
    expect(existsSync(cache)).toBe(true);
    rmSync(cache);
    await query(account.adminDbUrl, `CREATE TABLE used (id int); GRANT SELECT ON used TO "${anon}"`);
    const dry = await cli(project, ['--json', 'remote', 'setup', 'staging', '--dry-run']);
    expect(parseJson<SetupReport>(dry)).toMatchObject({ upToDate: true, missingRoles: [] });
    const again = await cli(project, ['--json', 'remote', 'setup', 'staging']);
    expect(again.exitCode, again.stderr + again.stdout).toBe(0);
    expect(parseJson<SetupReport>(again)).toMatchObject({ ran: false, upToDate: true });
    await query(account.adminDbUrl, `DROP TABLE used`);
  });

  it('a production remote needs --confirm (the dry run does not); nothing runs without it', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'rsetp' });
    await query(remote.adminUrl, `ALTER ROLE "${account.role}" CREATEROLE`);
    const { project, made } = setupProject([{ name: 'production', account, environment: 'production' }]);
    const refused = await cli(project, ['--json', 'remote', 'setup', 'production']);
    expect(refused.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string } }>(refused).error.code).toBe('CONFIRMATION_REQUIRED');
    expect((await cli(project, ['--json', 'remote', 'setup', 'production', '--dry-run'])).exitCode).toBe(0);
    expect(await rolesOnRemote(made)).toEqual([]);
    const confirmed = await cli(project, ['--json', 'remote', 'setup', 'production', '--confirm']);
    expect(confirmed.exitCode, confirmed.stderr + confirmed.stdout).toBe(0);
    expect(await rolesOnRemote(made)).toEqual(made);
  });

  it('a role without CREATEROLE is refused before anything runs, naming the privilege and the ALTER ROLE to run', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'rsetn' });
    const { project, made } = setupProject([{ name: 'staging', account }]);
    for (const args of [['remote', 'setup', 'staging'], ['remote', 'setup', 'staging', '--dry-run']]) {
      const result = await cli(project, ['--json', ...args]);
      expect(result.exitCode).toBe(1);
      const error = parseJson<{ error: { code: string; message: string; hint: string } }>(result).error;
      expect(error.code).toBe('PERMISSION_DENIED');
      expect(error.message).toContain(`role "${account.role}" lacks the CREATEROLE privilege`);
      expect(error.hint).toContain(`ALTER ROLE "${account.role}" CREATEROLE`);
    }
    expect(await rolesOnRemote(made)).toEqual([]);
    const text = await cli(project, ['remote', 'setup', 'staging']);
    expect(text.stderr).toContain('CREATEROLE');
  });
});
