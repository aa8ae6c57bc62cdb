import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { StartServerResult } from '../../src/index.js';
import { startManagedServer } from '../../src/server/lifecycle.js';
import type { Logger, ProgressEvent } from '../../src/logger.js';
import { CLI, parseJson } from '../support/cli.js';
import { cli, cliJson, managedEnv, postmasterPid, serverDir } from './support.js';

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, () => resolve(server));
  });
}

function recordingLogger(onProgress: (event: ProgressEvent) => void = () => undefined): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, debug: () => undefined, warn: (message) => warnings.push(message), progress: onProgress };
}

/** The status line of postmaster.pid (`ready`, `stopping`, ...). */
function pidStatus(dataDir: string): string | undefined {
  const file = path.join(dataDir, 'postmaster.pid');
  return existsSync(file) ? (readFileSync(file, 'utf8').split('\n')[7] ?? '').trim() : undefined;
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the managed server\'s port when other programs compete for it', () => {
  it('moves on when another program binds the port it chose between its probe and PostgreSQL\'s bind', async () => {
    const root = serverDir();
    const squatters: net.Server[] = [];
    const pending: Array<Promise<void>> = [];
    // The moment dbfast says which port it starts on, it has probed it free: take it then.
    const logger = recordingLogger((event) => {
      const port = /^port (\d+)$/.exec(event.detail ?? '')?.[1];
      if (event.phase.startsWith('starting the managed') && port && squatters.length === 0 && pending.length === 0) {
        pending.push(listen(Number(port)).then((server) => void squatters.push(server)));
      }
    });
    try {
      const result = await startManagedServer({ env: managedEnv(root), logger });
      await Promise.all(pending);
      const taken = (squatters[0]?.address() as net.AddressInfo).port;
      expect(result.started).toBe(true);
      expect(result.server.port).not.toBe(taken);
      expect(logger.warnings.join('\n')).toContain(`port ${taken} was taken by another program as the managed server started; it moves to port ${result.server.port}`);
      expect(postmasterPid(path.join(root, '15', 'data'))?.port).toBe(result.server.port);
    } finally {
      for (const squatter of squatters) squatter.close();
    }
  });

  it('refuses a taken --port before it runs initdb', async () => {
    const root = serverDir();
    const squatter = await listen(0);
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const refused = await cli(root, ['--json', 'server', 'start', '--port', String(port)]);
      expect(refused.exitCode).toBe(2);
      expect(parseJson<{ error: { code: string } }>(refused).error.code).toBe('SERVER_PORT_TAKEN');
      expect(existsSync(path.join(root, '15', 'data'))).toBe(false);
    } finally {
      squatter.close();
    }
  });

  it('starts on DBFAST_SERVER_PORT when it has no recorded port, and refuses one that is not a port', async () => {
    const root = serverDir();
    const squatter = await listen(0);
    const port = (squatter.address() as net.AddressInfo).port;
    await new Promise((resolve) => squatter.close(resolve));
    const started = await cliJson<StartServerResult>(root, ['server', 'start'], { extraEnv: { DBFAST_SERVER_PORT: String(port) } });
    expect(started.server.port).toBe(port);
    const bad = await cli(serverDir(), ['--json', 'server', 'start'], { extraEnv: { DBFAST_SERVER_PORT: '99999' } });
    expect(bad.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string; message: string } }>(bad).error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('DBFAST_SERVER_PORT') });
  });

  it('waits for a server that is shutting down to exit, then starts it again (never hands out a stopping server)', async () => {
    const root = serverDir();
    const dataDir = path.join(root, '15', 'data');
    const first = await cliJson<StartServerResult>(root, ['server', 'start']);
    const old = postmasterPid(dataDir) as { pid: number };
    // A smart shutdown waits for its sessions to end: the server stays "stopping" while this client is connected.
    const client = new pg.Client({ host: first.server.socketDir, port: first.server.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    client.on('error', () => undefined);
    process.kill(old.pid, 'SIGTERM');
    await waitFor(() => pidStatus(dataDir) === 'stopping');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...managedEnv(root) };
    for (const [key, value] of Object.entries(managedEnv(root))) if (value === undefined) delete env[key];
    const child = spawn(process.execPath, [CLI, 'server', 'url'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let done = false;
    void exited.then(() => (done = true));
    // It must wait (and say so) while the old server still runs; handing it out would be the bug.
    await waitFor(() => done || output.includes('is shutting down')).catch((error: unknown) => {
      throw new Error(`${String(error)}; output so far:\n${output}`);
    });
    await client.end();
    expect(await exited, output).toBe(0);
    expect(output).toContain('is shutting down; waiting for it to exit');
    expect(output).toContain('started dbfast\'s PostgreSQL');
    const now = postmasterPid(dataDir) as { pid: number };
    expect(now.pid).not.toBe(old.pid);
    expect(pidStatus(dataDir)).toBe('ready');
  });
});
