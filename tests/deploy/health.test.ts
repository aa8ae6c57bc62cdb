import type { DbfastErrorJson } from '../../src/errors.js';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query } from '../support/db.js';
import { asAccount, cli, createRemoteAccount, expectNoPasswordLeak } from '../support/backup.js';
import { snapshot, writeDeployProject } from '../support/deploy.js';
import { healthServer } from '../support/hooks.js';

interface ErrorJson {
  error: DbfastErrorJson;
}

describe('health check after a deploy', { timeout: 240_000 }, () => {
  it('a URL that keeps answering 500 rolls the deploy back; one answering 200 lets it stay', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'hlth' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (5)');
    const before = snapshot(account.adminDbUrl);
    const failing = await healthServer(500);
    const project = writeDeployProject([{ name: 'staging', account, deploy: { post: ['echo post hook ran'] }, healthCheck: { url: failing.url, timeoutSeconds: 2 } }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode).toBe(1);
    const error = parseJson<ErrorJson>(result).error;
    expect(error.code).toBe('HEALTH_CHECK_FAILED');
    expect(error.details.rolledBack).toBe(true);
    expect(error.details.health).toMatchObject({ ok: false, status: 500, expectedStatus: 200 });
    expect(error.message).toContain('answered 500, expected 200');
    expect(failing.requests()).toBeGreaterThanOrEqual(1);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    const history = parseJson<{ deploys: Array<{ result: string; phases: Array<{ name: string }> }> }>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.result).toBe('rolled_back');
    // Post hooks first, then the health check, then the swap back.
    expect(history.deploys[0]?.phases.map((p) => p.name).slice(-3)).toEqual(['post-hooks', 'health', 'rollback']);

    const healthy = await healthServer(200);
    const good = writeDeployProject([{ name: 'staging', account, healthCheck: { url: healthy.url, timeoutSeconds: 5 } }]);
    const deployed = await cli(good, ['--json', 'deploy', '--remote', 'staging']);
    expect(deployed.exitCode, deployed.stdout).toBe(0);
    const report = parseJson<{ health: { ok: boolean; status: number; url: string }; phases: Array<{ name: string }> }>(deployed);
    expect(report.health).toMatchObject({ ok: true, status: 200, url: healthy.url });
    expect(report.phases.map((p) => p.name).at(-1)).toBe('health');
    expect(healthy.requests()).toBe(1);
    expect((await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]).toEqual({ n: 3 });

    // An expected status other than 200 is honoured.
    const teapot = await healthServer(418);
    const odd = writeDeployProject([{ name: 'staging', account, healthCheck: { url: teapot.url, expectedStatus: 418, timeoutSeconds: 5 } }]);
    expect((await cli(odd, ['--json', 'deploy', '--remote', 'staging'])).exitCode).toBe(0);
    expectNoPasswordLeak([account.password], []);
  });
});
