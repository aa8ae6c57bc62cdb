import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { freePort } from '../support/cluster.js';
import { createRemoteAccount } from '../support/backup.js';
import { eventRows, gitProject, markerSql, post, serverConfig, signedPush, tempFolder } from './support.js';

const SECRET = 'interrupt-test-secret';

async function until(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('dbfast webhook serve interrupted (a second SIGTERM) during a deploy', () => {
  it('exits 130 and records the running deploy as failed (interrupted), never leaving it `running`', async () => {
    const flags = tempFolder('dbfast-webhook-flags-');
    const started = path.join(flags, 'started');
    const go = path.join(flags, 'go');
    const account = await createRemoteAccount({ createdb: true, prefix: 'whi' });
    const project = gitProject([{ name: 'staging', account }], { deploy: { pre: [`touch '${started}'; while [ ! -f '${go}' ]; do sleep 0.1; done`] } });
    const config = await serverConfig(project, ['secret_env = "DBFAST_TEST_INTERRUPT_SECRET"', '[[webhooks.routes]]', 'branch = "main"', 'remote = "staging"'].join('\n'));
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, '--config', config.configPath, 'webhook', 'serve', '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, ...project.env, DBFAST_TEST_INTERRUPT_SECRET: SECRET, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await until('the server to listen', () => stderr.includes('listening on') || child.exitCode !== null);
      const c1 = project.commit({ 'db/0_schema/090_marker.sql': markerSql('c1') }, 'c1');
      project.push('main');
      const first = await post(`http://127.0.0.1:${port}`, signedPush('github', 'refs/heads/main', c1, SECRET));
      expect(first.status, stderr).toBe(202);
      await until('the deploy to reach its pre hook', () => existsSync(started));
      child.kill('SIGTERM');
      await until('the graceful stop to begin', () => stderr.includes('not taking deliveries'));
      child.kill('SIGTERM');
      expect(await exited, stderr).toBe(130);
      const [row] = await eventRows(config.eventsDbUrl, first.body.requestId as string);
      expect(row?.outcome).toBe('failed');
      expect(row?.error).toContain('the server was interrupted (SIGTERM) during this deploy');
    } finally {
      writeFileSync(go, '');
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
