import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StartServerResult } from '../../src/index.js';
import { CLI } from '../support/cli.js';
import { cliJson, managedEnv, serverDir } from './support.js';

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Ctrl-C during the managed server\'s first start', () => {
  it('exits 130 leaving neither the lock nor initdb\'s password file, and the next start needs no wait for a stale lock', async () => {
    const root = serverDir();
    const majorDir = path.join(root, '15');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const [key, value] of Object.entries(managedEnv(root))) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    // Its own process group, as a terminal's Ctrl-C reaches dbfast and initdb alike.
    const child = spawn(process.execPath, [CLI, 'server', 'start'], { env, detached: true, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await waitFor(() => existsSync(majorDir) && readdirSync(majorDir).some((name) => name.startsWith('.initdb-pw-')) && readdirSync(majorDir).some((name) => name.startsWith('data.initdb-')));
    process.kill(-(child.pid as number), 'SIGINT');
    expect(await exited).toBe(130);
    expect(readdirSync(root).filter((name) => name.endsWith('.lock'))).toEqual([]);
    expect(readdirSync(majorDir).filter((name) => name.startsWith('.initdb-pw-'))).toEqual([]);
    // A half-made data.initdb-* may stay (initdb may still be writing it as dbfast exits): never `data`, and the next start removes it.
    expect(existsSync(path.join(majorDir, 'data'))).toBe(false);
    const started = await cliJson<StartServerResult>(root, ['server', 'start']);
    expect(started).toMatchObject({ started: true, initialized: true });
    expect(readdirSync(majorDir).filter((name) => name.startsWith('data') || name.startsWith('.initdb-pw-'))).toEqual(['data']);
  });
});
