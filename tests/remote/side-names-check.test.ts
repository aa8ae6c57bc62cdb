import { describe, expect, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { query, remote, urlFor } from '../support/db.js';
import { asAccount, cli, createRemoteAccount, type RemoteAccount } from '../support/backup.js';
import { writeDeployProject, type DeployProject } from '../support/deploy.js';

/*
 * A database on a name a swap needs (`<db>__dbfast_prev`, `<db>__dbfast_new`, ...) that dbfast
 * did not make stops the real deploy with SIDE_NAME_TAKEN; the dry run and `remote test` report
 * it beforehand, as a failed check with the same message and hint.
 */

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

async function remoteWithForeign(prefix: string, suffix: string): Promise<{ account: RemoteAccount; project: DeployProject; taken: string }> {
  const account = await createRemoteAccount({ createdb: true, prefix });
  await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
  const project = writeDeployProject([{ name: 'staging', account, backup: false }]);
  const taken = `${account.database}${suffix}`;
  await query(remote.adminUrl, `CREATE DATABASE "${taken}" OWNER "${account.role}"`);
  await query(urlFor(remote.adminUrl, taken), 'CREATE TABLE precious (x int)');
  await query(remote.adminUrl, `COMMENT ON DATABASE "${taken}" IS 'mine'`);
  return { account, project, taken };
}

function failedCheck(checks: Check[], result: CliResult): Check {
  const check = checks.find((c) => c.name === 'side_names');
  expect(check, result.stdout + result.stderr).toBeDefined();
  expect(check?.ok).toBe(false);
  return check as Check;
}

describe('a foreign database on a swap name is reported before the deploy refuses it', () => {
  for (const suffix of ['__dbfast_prev', '__dbfast_new']) {
    it(`${suffix}: deploy --dry-run and remote test fail the side_names check with the deploy's message and hint`, async () => {
      const { project, taken } = await remoteWithForeign(suffix === '__dbfast_prev' ? 'sncp' : 'sncn', suffix);
      const refused = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
      expect(refused.exitCode, refused.stdout + refused.stderr).toBe(2);
      const error = parseJson<{ error: { code: string; message: string; hint: string } }>(refused).error;
      expect(error.code).toBe('SIDE_NAME_TAKEN');
      expect(error.message).toContain(`"${taken}"`);

      const dry = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--dry-run']);
      expect(dry.exitCode, dry.stdout + dry.stderr).toBe(3);
      const plan = parseJson<{ plan: { checks: Check[] } }>(dry).plan;
      const inPlan = failedCheck(plan.checks, dry);
      expect(inPlan.detail).toBe(error.message);
      expect(inPlan.hint).toBe(error.hint);

      const tested = await cli(project, ['--json', 'remote', 'test', 'staging']);
      const inTest = failedCheck(parseJson<{ checks: Check[] }>(tested).checks, tested);
      expect(inTest.detail).toBe(error.message);
      expect(inTest.hint).toBe(error.hint);
      expect(tested.exitCode, tested.stdout + tested.stderr).toBe(3);
    });
  }
});
