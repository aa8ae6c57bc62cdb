import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serveWebhooks, stopServer } from '../../src/index.js';
import { managedEnv, postmasterPid, serverDir } from '../server/support.js';
import { gitProject, post, signed, tempFolder } from './support.js';

const SECRET = 'managed-secret';

describe('webhook serve on the managed local server', () => {
  it('starts the managed server again when it was stopped while serving, and records the next delivery', async () => {
    const root = serverDir();
    const env = { ...process.env, ...managedEnv(root), DBFAST_TEST_MANAGED_SECRET: SECRET } as NodeJS.ProcessEnv;
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
    const project = gitProject([]);
    const dir = tempFolder('dbfast-webhook-managed-');
    const configPath = path.join(dir, 'dbfast.toml');
    // No [database] url: the deliveries are recorded on dbfast's managed server.
    writeFileSync(configPath, [
      '[database]', 'template_name = "whm"', '[environments.staging]',
      '[remotes.staging]', 'url = "postgresql://app@127.0.0.1:1/shop"', 'environment = "staging"',
      '[webhooks]', `repository = ${JSON.stringify(project.bare)}`, 'secret_env = "DBFAST_TEST_MANAGED_SECRET"',
      '[[webhooks.routes]]', 'branch = "main"', 'remote = "staging"', '',
    ].join('\n'));
    const server = await serveWebhooks({ configPath, listen: '127.0.0.1:0', env, runner: async (request) => ({ deployId: request.deployId, mode: 'swap', backupId: null, durationMs: 1 }) });
    try {
      const dataDir = path.join(root, '15', 'data');
      const before = postmasterPid(dataDir) as { pid: number };
      expect((await stopServer({ env })).stopped).toHaveLength(1);
      const ping = await post(server.url, signed('github', 'ping', { zen: 'hi' }, SECRET));
      expect(ping.status, JSON.stringify(ping.body)).toBe(200);
      expect(ping.body.outcome).toBe('ping');
      const after = postmasterPid(dataDir) as { pid: number };
      expect(after.pid).not.toBe(before.pid);
    } finally {
      await server.stop();
    }
  });
});
