import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveWebhooks, type DeployRequest } from '../../src/index.js';
import { parseListen } from '../../src/webhook/settings.js';
import { parseJson, runCli } from '../support/cli.js';
import { freshDatabase, local } from '../support/db.js';
import { eventRows, gitProject, post, settled, signedPush, tempFolder } from './support.js';

/** A serving dbfast.toml with a staging and a production remote (never connected to here). */
async function writeServerConfig(webhooks: string): Promise<{ configPath: string; eventsDbUrl: string; dir: string }> {
  const dir = tempFolder('dbfast-webhook-settings-');
  const events = await freshDatabase(local, 'whc');
  const text = [
    '[database]',
    `url = ${JSON.stringify(events.url)}`,
    '[environments.staging]',
    '[environments.production]',
    '[remotes.staging]',
    'url = "postgresql://app@127.0.0.1:1/shop"',
    'environment = "staging"',
    '[remotes.production]',
    'url = "postgresql://app@127.0.0.1:1/shop"',
    'environment = "production"',
    '[webhooks]',
    webhooks,
  ].join('\n');
  const configPath = path.join(dir, 'dbfast.toml');
  writeFileSync(configPath, `${text}\n`);
  return { configPath, eventsDbUrl: events.url, dir };
}

describe('[webhooks] settings', () => {
  it('refuses to start, naming each problem: a production route without confirm = true, an unset secret, an unknown remote, a route with both branch and tag', async () => {
    const { configPath } = await writeServerConfig(
      [
        'repository = "/nonexistent/repo.git"',
        'secret_env = "DBFAST_TEST_UNSET_SECRET"',
        '[[webhooks.routes]]',
        'branch = "main"',
        'remote = "production"',
        '[[webhooks.routes]]',
        'name = "qa"',
        'branch = "qa"',
        'tag = "qa-*"',
        'remote = "staging"',
        '[[webhooks.routes]]',
        'branch = "demo"',
        'remote = "demo"',
      ].join('\n'),
    );
    const result = await runCli(['--config', configPath, '--json', 'webhook', 'serve', '--listen', '127.0.0.1:0'], { env: { DBFAST_TEST_UNSET_SECRET: undefined } });
    expect(result.exitCode, result.stderr).toBe(2);
    const error = parseJson<{ error: { code: string; details: { problems: string[] }; hint: string } }>(result).error;
    expect(error.code).toBe('WEBHOOK_CONFIG_INVALID');
    expect(error.details.problems).toEqual([
      'webhooks.routes[0] (branch:main->production): remote "production" is a production remote; pushes deploy there only when the route says so: add confirm = true to it',
      'webhooks.routes[1] (qa): give exactly one of branch = "GLOB" or tag = "GLOB"',
      'webhooks.routes[2] (branch:demo->demo): no remote named "demo" (defined: staging, production)',
      'webhooks.secret_env: environment variable DBFAST_TEST_UNSET_SECRET is not set',
    ]);
    const text = await runCli(['--config', configPath, 'webhook', 'serve'], { env: { DBFAST_TEST_UNSET_SECRET: undefined } });
    expect(text.exitCode).toBe(2);
    expect(text.stderr).toContain('webhooks.routes[0] (branch:main->production)');

    const none = await writeServerConfig('');
    const empty = await runCli(['--config', none.configPath, '--json', 'webhook', 'serve']);
    expect(parseJson<{ error: { details: { problems: string[] } } }>(empty).error.details.problems).toEqual([
      'webhooks.repository: required: the URL or path of the git repository to fetch pushed commits from',
      'webhooks.routes: none: add [[webhooks.routes]] with branch = "main" (or tag = "v*") and remote = "NAME"',
    ]);
  });

  it('parses listen addresses', () => {
    expect(parseListen('0.0.0.0:9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListen(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseListen('host:99999')).toBeUndefined();
    expect(parseListen('nonsense')).toBeUndefined();
  });

  it("hands the deploy seam exactly the route's request: the commit's worktree, confirm for --confirm, a route's own secret only for that route", async () => {
    const project = gitProject([]);
    const { configPath, eventsDbUrl } = await writeServerConfig('');
    const text = readFileSync(configPath, 'utf8');
    writeFileSync(
      configPath,
      text.replace(
        '[webhooks]\n',
        [
          '[webhooks]',
          `repository = ${JSON.stringify(project.bare)}`,
          'secret_env = "DBFAST_TEST_DEFAULT_SECRET"',
          '[[webhooks.routes]]',
          'branch = "main"',
          'remote = "production"',
          'confirm = true',
          '[[webhooks.routes]]',
          'branch = "release/*"',
          'remote = "staging"',
          'provider = "gitlab"',
          'secret_env = "DBFAST_TEST_RELEASE_SECRET"',
          '',
        ].join('\n'),
      ),
    );
    const requests: Array<DeployRequest & { file: string }> = [];
    const server = await serveWebhooks({
      configPath,
      listen: '127.0.0.1:0',
      env: { ...process.env, DBFAST_TEST_DEFAULT_SECRET: 'default-secret', DBFAST_TEST_RELEASE_SECRET: 'release-secret' },
      // The seam: what the real runner (tested in serve.test.ts) would be given.
      runner: async (request) => {
        requests.push({ ...request, file: readFileSync(path.join(request.worktreeDir, 'db/0_schema/090_marker.sql'), 'utf8') });
        return { deployId: request.deployId, mode: 'swap', backupId: null, durationMs: 1 };
      },
    });
    try {
      const c1 = project.commit({ 'db/0_schema/090_marker.sql': '-- c1\n' }, 'c1');
      project.push('release/1.0');
      project.push('main');
      // The release route takes its own secret: the default one does not reach it, nor does another provider.
      const wrongSecret = await post(server.url, signedPush('gitlab', 'refs/heads/release/1.0', c1, 'default-secret'));
      expect(wrongSecret.body).toMatchObject({ outcome: 'ignored', detail: 'no route for branch "release/1.0"' });
      const wrongProvider = await post(server.url, signedPush('github', 'refs/heads/release/1.0', c1, 'release-secret'));
      expect(wrongProvider.status).toBe(401);
      const release = await post(server.url, signedPush('gitlab', 'refs/heads/release/1.0', c1, 'release-secret'));
      expect(release.status).toBe(202);
      expect(await settled(eventsDbUrl, release.body.requestId as string)).toEqual([expect.objectContaining({ outcome: 'deployed', route: 'branch:release/*->staging' })]);
      const main = await post(server.url, signedPush('github', 'refs/heads/main', c1, 'default-secret', 'bob'));
      expect(await settled(eventsDbUrl, main.body.requestId as string)).toEqual([expect.objectContaining({ outcome: 'deployed', remote: 'production' })]);

      expect(requests.map((r) => [r.remote, r.confirmed, r.environment, r.file, path.basename(r.configPath)])).toEqual([
        ['staging', false, undefined, '-- c1\n', 'dbfast.toml'],
        ['production', true, undefined, '-- c1\n', 'dbfast.toml'],
      ]);
      expect(requests[1]?.trigger).toEqual({ provider: 'github', deliveryId: expect.any(String), commit: c1, sender: 'bob', ref: 'refs/heads/main' });
      expect(requests[1]?.worktreeDir.startsWith(path.join(path.dirname(configPath), '.dbfast', 'webhook', 'worktrees'))).toBe(true);
      const rows = await eventRows(eventsDbUrl);
      expect(rows.filter((row) => row.outcome === 'deployed').map((row) => row.deploy_id)).toEqual(requests.map((r) => r.deployId));
    } finally {
      await server.stop();
    }
  });
});
