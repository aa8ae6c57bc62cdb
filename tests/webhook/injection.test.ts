import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveWebhooks, type DeployRequest } from '../../src/index.js';
import { ServerRepository } from '../../src/webhook/git.js';
import { providerNamed } from '../../src/webhook/providers.js';
import { freshDatabase, local } from '../support/db.js';
import { eventRows, gitProject, post, settled, signedPush, tempFolder } from './support.js';

/** What git would run if it took the commit as an option: a file appears. */
function injection(dir: string): { commit: string; witness: string } {
  const witness = path.join(dir, 'pwned');
  return { commit: `--upload-pack=touch ${witness};git-upload-pack`, witness };
}

describe('webhook deliveries never smuggle options into git', () => {
  it('answers a signed push whose commit is not a commit id with 400 invalid, and git never runs it', async () => {
    const project = gitProject([]);
    const dir = tempFolder('dbfast-webhook-inject-');
    const events = await freshDatabase(local, 'whi');
    const configPath = path.join(dir, 'dbfast.toml');
    writeFileSync(configPath, [
      '[database]', `url = ${JSON.stringify(events.url)}`, '[environments.staging]',
      '[remotes.staging]', 'url = "postgresql://app@127.0.0.1:1/shop"', 'environment = "staging"',
      '[webhooks]', `repository = ${JSON.stringify(project.bare)}`, 'secret_env = "DBFAST_TEST_INJECT_SECRET"',
      '[[webhooks.routes]]', 'branch = "*"', 'remote = "staging"', '',
    ].join('\n'));
    const requests: DeployRequest[] = [];
    const server = await serveWebhooks({
      configPath,
      listen: '127.0.0.1:0',
      env: { ...process.env, DBFAST_TEST_INJECT_SECRET: 's3cret' },
      runner: async (request) => {
        requests.push(request);
        return { deployId: request.deployId, mode: 'swap', backupId: null, durationMs: 1 };
      },
    });
    try {
      const { commit, witness } = injection(dir);
      const answers = [
        await post(server.url, signedPush('github', 'refs/heads/main', commit, 's3cret')),
        await post(server.url, signedPush('gitlab', 'refs/heads/main', commit, 's3cret')),
        await post(server.url, signedPush('bitbucket', 'refs/heads/main', commit, 's3cret')),
        await post(server.url, signedPush('github', 'refs/heads/-x', 'a'.repeat(40), 's3cret')),
        await post(server.url, signedPush('github', 'refs/heads/main\nX', 'a'.repeat(40), 's3cret')),
      ];
      // Before the check, a delivery was queued (202) and its job ran `git fetch origin <commit>`: wait for any such job.
      for (const answer of answers) if (answer.status === 202) await settled(events.url, answer.body.requestId as string);
      expect(existsSync(witness)).toBe(false);
      expect(answers.map((answer) => [answer.status, answer.body.outcome])).toEqual(Array(5).fill([400, 'invalid']));
      expect(answers[0]?.body.error).toContain('is not a commit id (40 or 64 hex digits)');
      expect(answers[3]?.body.error).toContain('starting with "-"');
      expect(answers[4]?.body.error).toContain('control characters');
      const rows = await eventRows(events.url);
      expect(rows.map((row) => row.outcome)).toEqual(Array(5).fill('invalid'));
      expect(requests).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('refuses a commit that is not a commit id at git\'s door too, and takes SHA-1 and SHA-256 ids', async () => {
    const project = gitProject([]);
    const dir = tempFolder('dbfast-webhook-inject-');
    const repository = new ServerRepository(project.bare, dir);
    await repository.prepare();
    const { commit, witness } = injection(dir);
    await expect(repository.fetchCommit(commit)).rejects.toMatchObject({ code: 'WEBHOOK_COMMIT_INVALID' });
    await expect(repository.checkout(commit, 'x')).rejects.toMatchObject({ code: 'WEBHOOK_COMMIT_INVALID' });
    expect(existsSync(witness)).toBe(false);

    const github = providerNamed('github');
    const push = (after: string): unknown => github?.parse('push', { ref: 'refs/heads/main', after, repository: { full_name: 'a/b' } });
    expect(push('A'.repeat(40))).toMatchObject({ kind: 'push', updates: [{ commit: 'A'.repeat(40) }] });
    expect(push('b'.repeat(64))).toMatchObject({ kind: 'push', updates: [{ commit: 'b'.repeat(64) }] });
    expect(push('0'.repeat(40))).toMatchObject({ kind: 'push', updates: [{ commit: null }] });
    expect(() => push('abc123')).toThrow(/not a commit id/);
  });
});
