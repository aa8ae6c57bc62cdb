import { describe, expect, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { query, remote, urlFor } from '../support/db.js';
import { asAccount, cli, createRemoteAccount, type RemoteAccount } from '../support/backup.js';
import { snapshot, writeDeployProject, type DeployProject, type DeployRemote } from '../support/deploy.js';

/*
 * `deploy --dry-run` is what CI runs before a deploy: like `remote test` and `doctor` it exits 3
 * when a check it reports failed (the deploy would refuse), 0 only when every check passed
 * (warnings allowed), and its --json carries the same verdict as `ok`. Each case is a real
 * reason a deploy is refused, set up on the real remote server.
 */

interface Check {
  name: string;
  ok: boolean;
  severity: string;
}

interface DryRunJson {
  ok: boolean;
  result: string;
  plan: { checks: Check[] };
}

function output(result: CliResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

/** Runs the dry run with --json and without; both must give `exit` and agree on which checks failed. */
async function dryRun(project: DeployProject, exit: number, env: Record<string, string> = {}): Promise<{ json: DryRunJson; human: CliResult; failed: string[] }> {
  const jsonRun = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--dry-run'], env);
  expect(jsonRun.exitCode, output(jsonRun)).toBe(exit);
  const json = parseJson<DryRunJson>(jsonRun);
  expect(json.result).toBe('dry_run');
  const failed = json.plan.checks.filter((c) => !c.ok && c.severity === 'error').map((c) => c.name);
  expect(json.ok, JSON.stringify(json.plan.checks)).toBe(failed.length === 0);
  const human = await cli(project, ['deploy', '--remote', 'staging', '--dry-run'], env);
  expect(human.exitCode, output(human)).toBe(exit);
  expect(human.stdout).toContain('nothing was changed.');
  return { json, human, failed };
}

async function staging(prefix: string, options: Partial<DeployRemote> = {}): Promise<{ account: RemoteAccount; project: DeployProject }> {
  const account = await createRemoteAccount({ createdb: true, prefix });
  await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
  const project = writeDeployProject([{ name: 'staging', account, backup: false, ...options }]);
  return { account, project };
}

function expectRefusalLine(human: CliResult, failed: string[]): void {
  const last = human.stdout.trimEnd().split('\n').at(-1) ?? '';
  expect(last).toBe(`${failed.length === 1 ? '1 check' : `${failed.length} checks`} failed (${failed.join(', ')}): the deploy would be refused`);
}

describe('deploy --dry-run exits 3 when a check it reports fails', { timeout: 180_000 }, () => {
  it('every check passes: exit 0, ok: true, and it says the deploy would proceed', async () => {
    const { account, project } = await staging('dvok');
    const before = snapshot(account.adminDbUrl);
    const { json, human } = await dryRun(project, 0);
    expect(json.ok).toBe(true);
    expect(human.stdout.trimEnd().split('\n').at(-1)).toBe('every check passed: the deploy would proceed');
    expect(snapshot(account.adminDbUrl)).toBe(before);
  });

  it('the role may not read a table pg_dump reads: the read check fails, exit 3', async () => {
    const { account, project } = await staging('dvrd');
    // Owned by the superuser, no grant: pg_dump as the deploying role would be refused.
    await query(account.adminDbUrl, 'CREATE TABLE hidden (secret text)');
    const { json, human, failed } = await dryRun(project, 3);
    expect(json.ok).toBe(false);
    expect(failed).toEqual(['read']);
    expect(human.stdout).toMatch(/FAIL read: PERMISSION_DENIED: /);
    expectRefusalLine(human, failed);
  });

  it('a foreign database on a swap side name: the side_names check fails, exit 3', async () => {
    const { account, project } = await staging('dvsn');
    const taken = `${account.database}__dbfast_new`;
    await query(remote.adminUrl, `CREATE DATABASE "${taken}" OWNER "${account.role}"`);
    await query(urlFor(remote.adminUrl, taken), 'CREATE TABLE precious (x int)');
    const { json, human, failed } = await dryRun(project, 3);
    expect(json.ok).toBe(false);
    expect(failed).toEqual(['side_names']);
    expectRefusalLine(human, failed);
    await query(remote.adminUrl, `DROP DATABASE "${taken}"`);
  });

  it('a required variable is missing: the required_env check fails, exit 3; set (or --skip-validation) it passes', async () => {
    const { project } = await staging('dvenv', { deploy: { requiredEnv: ['DBFAST_TEST_DRY_NEEDED'] } });
    const { json, human, failed } = await dryRun(project, 3);
    expect(json.ok).toBe(false);
    expect(failed).toEqual(['required_env']);
    expectRefusalLine(human, failed);
    await dryRun(project, 0, { DBFAST_TEST_DRY_NEEDED: 'yes' });
    const skipped = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--dry-run', '--skip-validation']);
    expect(skipped.exitCode, output(skipped)).toBe(0);
    expect(parseJson<DryRunJson>(skipped).ok).toBe(true);
  });

  it('the remote is unreachable: the connect check fails, exit 3 (not an error exit: the plan is still printed)', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'dvun' });
    const closed = new URL(account.url);
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    closed.host = '127.0.0.1:1';
    const project = writeDeployProject([{ name: 'staging', account: { ...account, url: closed.toString() }, backup: false }]);
    const { json, human, failed } = await dryRun(project, 3);
    expect(json.ok).toBe(false);
    expect(failed).toContain('connect');
    expectRefusalLine(human, failed);
  });
});
