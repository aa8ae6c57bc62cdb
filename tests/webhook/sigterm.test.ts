import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { freePort } from '../support/cluster.js';
import { createRemoteAccount } from '../support/backup.js';
import { eventRows, gitProject, marker, markerSql, post, serverConfig, settled, signedPush, tempFolder } from './support.js';

const SECRET = 'sigterm-test-secret';

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('dbfast webhook serve and SIGTERM', () => {
  it('stops taking deliveries, cancels waiting deploys, lets the running one finish, and exits 0', async () => {
    const flags = tempFolder('dbfast-webhook-flags-');
    const started = path.join(flags, 'started');
    const go = path.join(flags, 'go');
    // The pre hook holds the deploy until the test says go: SIGTERM arrives during the deploy, whatever the machine's speed.
    const account = await createRemoteAccount({ createdb: true, prefix: 'whs' });
    const project = gitProject([{ name: 'staging', account }], { deploy: { pre: [`touch '${started}'; while [ ! -f '${go}' ]; do sleep 0.1; done`] } });
    const config = await serverConfig(project, ['secret_env = "DBFAST_TEST_SIGTERM_SECRET"', '[[webhooks.routes]]', 'branch = "main"', 'remote = "staging"'].join('\n'));
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, '--config', config.configPath, '--json', 'webhook', 'serve', '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, ...project.env, DBFAST_TEST_SIGTERM_SECRET: SECRET, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    try {
      await until('the server to listen', () => stdout.includes('"type":"listening"') || child.exitCode !== null);
      expect(stdout, stderr).toContain(`"url":"http://127.0.0.1:${port}"`);
      const url = `http://127.0.0.1:${port}`;

      const c1 = project.commit({ 'db/0_schema/090_marker.sql': markerSql('c1') }, 'c1');
      project.push('main');
      const first = await post(url, signedPush('github', 'refs/heads/main', c1, SECRET));
      expect(first.status, stderr + JSON.stringify(first.body)).toBe(202);
      await until('the deploy to reach its pre hook', () => existsSync(started));
      // A second push for the busy remote waits; the stop cancels it.
      const c2 = project.commit({ 'db/0_schema/090_marker.sql': markerSql('c2') }, 'c2');
      project.push('main');
      const second = await post(url, signedPush('github', 'refs/heads/main', c2, SECRET));
      expect(second.status).toBe(202);

      child.kill('SIGTERM');
      await until('the server to stop listening', () => refused(port));
      expect(child.exitCode).toBeNull();
      writeFileSync(go, '');
      const exit = await exited;
      expect(exit, stderr).toEqual({ code: 0, signal: null });

      expect(await marker(account)).toBe('c1');
      expect(await settled(config.eventsDbUrl, first.body.requestId as string)).toEqual([expect.objectContaining({ outcome: 'deployed', commit: c1 })]);
      expect(await eventRows(config.eventsDbUrl, second.body.requestId as string)).toEqual([expect.objectContaining({ outcome: 'cancelled', commit: c2 })]);
      const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines.map((line) => [line.type, line.outcome ?? null])).toEqual([
        ['listening', null],
        ['delivery', 'cancelled'],
        ['delivery', 'deployed'],
        ['stopped', null],
      ]);
      expect(lines.at(-1)).toMatchObject({ signal: 'SIGTERM', cancelled: 1, unfinished: 0 });
      expect(stdout + stderr).not.toContain(SECRET);
      expect(stdout + stderr).not.toContain(account.password);
    } finally {
      writeFileSync(go, '');
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('interrupts a deploy still running after shutdown_timeout_seconds, records it as failed, and exits 1', async () => {
    const flags = tempFolder('dbfast-webhook-flags-');
    const started = path.join(flags, 'started');
    const go = path.join(flags, 'go');
    const account = await createRemoteAccount({ createdb: true, prefix: 'whs' });
    const project = gitProject([{ name: 'staging', account }], { deploy: { pre: [`touch '${started}'; while [ ! -f '${go}' ]; do sleep 0.1; done`] } });
    const config = await serverConfig(project, ['secret_env = "DBFAST_TEST_SIGTERM_SECRET"', 'shutdown_timeout_seconds = 1', '[[webhooks.routes]]', 'branch = "main"', 'remote = "staging"'].join('\n'));
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, '--config', config.configPath, 'webhook', 'serve', '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, ...project.env, DBFAST_TEST_SIGTERM_SECRET: SECRET, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    try {
      await until('the server to listen', () => stderr.includes('listening on') || child.exitCode !== null);
      const c1 = project.commit({ 'db/0_schema/090_marker.sql': markerSql('c1') }, 'c1');
      project.push('main');
      const first = await post(`http://127.0.0.1:${port}`, signedPush('github', 'refs/heads/main', c1, SECRET));
      expect(first.status, stderr).toBe(202);
      await until('the deploy to reach its pre hook', () => existsSync(started));
      child.kill('SIGTERM');
      expect(await exited, stderr).toEqual({ code: 1, signal: null });
      expect(stderr).toContain('were interrupted (recorded as failed)');
      const [row] = await eventRows(config.eventsDbUrl, first.body.requestId as string);
      expect(row?.outcome).toBe('failed');
      expect(row?.error).toContain('shutdown_timeout_seconds');
      expect(await marker(account)).toBeNull();
    } finally {
      writeFileSync(go, '');
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
