import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, PROJECT_ROOT, runCli, type CliResult } from '../support/cli.js';
import { local, query, remote, uniqueName, urlFor } from '../support/db.js';
import { makeProject } from '../support/project.js';
import { cli, project, remoteDatabase, scramRole } from '../support/remote.js';

interface ErrorBody {
  error: { code: string; message: string; hint: string | null; exitCode: number; details: Record<string, unknown> };
}

function errorOf(result: CliResult): ErrorBody['error'] {
  return parseJson<ErrorBody>(result).error;
}

const localRoles: string[] = [];

/** A login role on the local cluster (trust), and the URL dbfast.toml uses for it. */
async function localRole(attributes: string): Promise<{ name: string; url: string }> {
  const name = uniqueName('dev');
  await query(local.adminUrl, `CREATE ROLE "${name}" LOGIN ${attributes}`);
  localRoles.push(name);
  const url = new URL(local.adminUrl);
  url.username = name;
  return { name, url: url.toString() };
}

afterAll(async () => {
  for (const name of localRoles.splice(0)) {
    await query(local.adminUrl, `REASSIGN OWNED BY "${name}" TO postgres; DROP OWNED BY "${name}"`).catch(() => undefined);
    await query(local.adminUrl, `DROP ROLE IF EXISTS "${name}"`).catch(() => undefined);
  }
});

describe('permission errors name the object, the missing privilege and what to grant (never "a bug in dbfast")', () => {
  it('a local role without CREATEDB: build says so and how to grant it', async () => {
    const role = await localRole('');
    const p = makeProject({ url: role.url });
    const result = await runCli(['--json', 'build'], { cwd: p.dir });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.message).toContain('permission denied to create database');
    expect(error.hint).toBe(`As a superuser: ALTER ROLE "${role.name}" CREATEDB;`);
    expect(error.details).toMatchObject({ privilege: 'CREATEDB' });
  });

  it('a template owned by another role: must be owner of database, and the ALTER ... OWNER that fixes it', async () => {
    const p = makeProject();
    const first = await runCli(['--json', 'build'], { cwd: p.dir });
    expect(first.exitCode, first.stderr).toBe(0);
    const role = await localRole('CREATEDB');
    p.write('0_schema/020_more.sql', 'CREATE TABLE more (id int);\n');
    const url = new URL(local.adminUrl);
    url.username = role.name;
    // The same project (so the same template), now connecting as a role that does not own the
    // template the superuser built: it may not replace it.
    const result = await runCli(['--json', 'build'], { cwd: p.dir, env: { DBFAST_DATABASE_URL: url.toString() } });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.message).toContain(`must be owner of database ${p.template()}`);
    expect(error.hint).toContain(`ALTER DATABASE ${p.template()} OWNER TO "${role.name}";`);
  });

  it('a remote database the role may not connect to: remote test and deploy say GRANT CONNECT', async () => {
    const role = await scramRole('CREATEDB');
    const db = await remoteDatabase();
    await query(remote.adminUrl, `REVOKE CONNECT ON DATABASE "${db}" FROM PUBLIC`);
    const p = project(`[environments.local]\n\n[remotes.target]\nurl = "${role.urlFor(db)}"\npassword_env = "TARGET_PW"\nenvironment = "local"\nallow_destructive = true\n`);
    const env = { TARGET_PW: role.password };
    const test = await cli(p.dir, ['--json', 'remote', 'test', 'target'], env);
    expect(test.exitCode, test.stdout + test.stderr).toBe(3);
    const connect = parseJson<{ checks: Array<{ name: string; ok: boolean; detail: string; hint?: string }> }>(test).checks.find((c) => c.name === 'connect');
    expect(connect).toMatchObject({ ok: false });
    expect(connect?.detail).toContain(`permission denied for database "${db}"`);
    expect(connect?.hint).toBe(`As the database's owner or a superuser: GRANT CONNECT ON DATABASE ${db} TO "${role.name}";`);

    const backup = await cli(p.dir, ['--json', 'backup', 'create', '--remote', 'target'], env);
    expect(backup.exitCode).toBe(1);
    expect(errorOf(backup).hint).toContain(`GRANT CONNECT ON DATABASE ${db} TO "${role.name}";`);
  });

  it('a member of the owning role without INHERIT is not taken for the owner', async () => {
    const owner = await scramRole();
    const role = await scramRole('CREATEDB NOINHERIT');
    await query(remote.adminUrl, `GRANT "${owner.name}" TO "${role.name}"`);
    const db = await remoteDatabase(owner.name);
    const p = project(`[environments.local]\n\n[remotes.target]\nurl = "${role.urlFor(db)}"\npassword_env = "TARGET_PW"\nenvironment = "local"\n`);
    const test = await cli(p.dir, ['--json', 'remote', 'test', 'target'], { TARGET_PW: role.password });
    const report = parseJson<{ ownsDatabase: boolean; checks: Array<{ name: string; ok: boolean; severity: string }> }>(test);
    expect(report.ownsDatabase).toBe(false);
    expect(report.checks.find((c) => c.name === 'owner')).toMatchObject({ ok: false, severity: 'warning' });
    await query(urlFor(remote.adminUrl, 'postgres'), `REVOKE "${owner.name}" FROM "${role.name}"`);
  });

  it('no hint sends users to dbfast.toml.example, which the npm package does not ship', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else if (full.endsWith('.ts')) files.push(full);
      }
    };
    walk(path.join(PROJECT_ROOT, 'src'));
    expect(files.filter((file) => readFileSync(file, 'utf8').includes('dbfast.toml.example'))).toEqual([]);
  });
});
