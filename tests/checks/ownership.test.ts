import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { local, query, remote, uniqueName } from '../support/db.js';
import { cli, createRemoteAccount } from '../support/backup.js';
import { writeDeployProject, type DeployProject } from '../support/deploy.js';

interface Check {
  name: string;
  ok: boolean;
  severity: string;
  detail: string;
  hint?: string;
}

function setRemoteKey(project: DeployProject, remoteName: string, line: string): void {
  const file = path.join(project.dir, 'dbfast.toml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(`[remotes.${remoteName}]\n`, `[remotes.${remoteName}]\n${line}\n`));
}

function failing(checks: Check[]): Check[] {
  return checks.filter((c) => !c.ok && c.severity === 'error');
}

function expectExit(result: CliResult, code: number): void {
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(code);
}

async function tableOwner(adminDbUrl: string, table: string): Promise<string | undefined> {
  return (await query<{ owner: string }>(adminDbUrl, 'SELECT tableowner AS owner FROM pg_tables WHERE tablename = $1', [table]))[0]?.owner;
}

describe('template owners on a remote whose role owns nothing of the template', () => {
  it('by default the first deploy works and objects belong to the deploying role; remote test, dry run and deploy agree', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'own' });
    // noOwner: false leaves no_owner out of dbfast.toml: the newcomer's config.
    const project = writeDeployProject([{ name: 'staging', account, noOwner: false }]);

    const test = await cli(project, ['--json', 'remote', 'test', 'staging']);
    expectExit(test, 0);
    const testChecks = parseJson<{ checks: Check[] }>(test).checks;
    expect(failing(testChecks)).toEqual([]);
    expect(testChecks.find((c) => c.name === 'owners')?.detail).toContain(`owned by ${account.role}`);

    const dry = await cli(project, ['--json', 'deploy', 'staging', '--dry-run']);
    expectExit(dry, 0);
    const dryChecks = parseJson<{ plan: { checks: Check[] } }>(dry).plan.checks;
    expect(failing(dryChecks)).toEqual([]);

    const deployed = await cli(project, ['--json', 'deploy', 'staging']);
    expectExit(deployed, 0);
    expect(await tableOwner(account.adminDbUrl, 'product')).toBe(account.role);
  });

  it('no_owner = false keeps owners only when possible: remote test, dry run and deploy report the same failing check, never suggesting a superuser role', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'keep' });
    const project = writeDeployProject([{ name: 'staging', account, noOwner: false }]);
    setRemoteKey(project, 'staging', 'no_owner = false');
    const built = await cli(project, ['--json', 'build', '--env', 'staging']);
    expectExit(built, 0);

    const test = await cli(project, ['--json', 'remote', 'test', 'staging']);
    expectExit(test, 3);
    const [testProblem, ...moreTest] = failing(parseJson<{ checks: Check[] }>(test).checks);
    expect(moreTest).toEqual([]);
    expect(testProblem).toMatchObject({ name: 'owners' });
    expect(testProblem?.detail).toContain('"postgres"');
    expect(testProblem?.hint).not.toMatch(/GRANT\s+"?postgres"?\s+TO/i);
    expect(testProblem?.hint).toContain('no_owner');

    const dry = await cli(project, ['--json', 'deploy', 'staging', '--dry-run']);
    const dryProblems = failing(parseJson<{ plan: { checks: Check[] } }>(dry).plan.checks);
    expect(dryProblems).toEqual([testProblem]);

    const deployed = await cli(project, ['--json', 'deploy', 'staging']);
    expectExit(deployed, 1);
    const error = parseJson<{ error: { code: string; message: string; hint: string; details: { checks: Check[] } } }>(deployed).error;
    expect(error.code).toBe('PREFLIGHT_FAILED');
    expect(error.details.checks).toEqual([testProblem]);
    expect(`${error.message}\n${error.hint}`).not.toMatch(/GRANT\s+"?postgres"?\s+TO/i);
  });

  it('no_owner = false with an owner role the deploying role belongs to: owners are kept; without membership the hint grants that (ordinary) role', async () => {
    const owner = uniqueName('appowner');
    await query(local.adminUrl, `CREATE ROLE "${owner}" NOLOGIN`);
    await query(remote.adminUrl, `CREATE ROLE "${owner}" NOLOGIN`);
    const account = await createRemoteAccount({ createdb: true, prefix: 'mem' });
    const project = writeDeployProject([{ name: 'staging', account, noOwner: false }], {
      extraSql: `ALTER SCHEMA app OWNER TO "${owner}"; ALTER TABLE app.product OWNER TO "${owner}"; ALTER TABLE app.customer OWNER TO "${owner}"; ALTER TABLE app.purchase OWNER TO "${owner}"; ALTER FUNCTION app.order_total(bigint) OWNER TO "${owner}";`,
    });
    setRemoteKey(project, 'staging', 'no_owner = false');
    expectExit(await cli(project, ['--json', 'build', '--env', 'staging']), 0);

    const test = await cli(project, ['--json', 'remote', 'test', 'staging']);
    expectExit(test, 3);
    const problems = failing(parseJson<{ checks: Check[] }>(test).checks);
    expect(problems.map((c) => c.name)).toEqual(['owners']);
    expect(problems[0]?.hint).toContain(`GRANT "${owner}" TO "${account.role}"`);

    await query(remote.adminUrl, `GRANT "${owner}" TO "${account.role}"`);
    expectExit(await cli(project, ['--json', 'remote', 'test', 'staging']), 0);
    const deployed = await cli(project, ['--json', 'deploy', 'staging']);
    expectExit(deployed, 0);
    expect(await tableOwner(account.adminDbUrl, 'product')).toBe(owner);
  });
});
