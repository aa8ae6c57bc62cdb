import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServerUrl, StartServerResult } from '../../src/index.js';
import { CLI } from '../support/cli.js';
import { parseJson } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { IS_ROOT, alive, cli, cliJson, databaseNames, managedEnv, postmasterPid, serverDir, writeManagedProject } from './support.js';

interface Seeded {
  database: string;
}

describe('the managed server under concurrency and after crashes', () => {
  it('starts once when several commands need it at the same moment', async () => {
    const root = serverDir();
    const project = writeManagedProject(tempDir());
    const runs = await Promise.all([
      cli(root, ['--json', 'server', 'start']),
      cli(root, ['--json', 'server', 'start']),
      cli(root, ['--json', 'seed', '--output', 'race_a'], { cwd: project }),
      cli(root, ['--json', 'seed', '--output', 'race_b'], { cwd: project }),
    ]);
    for (const run of runs) expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const starts = runs.slice(0, 2).map((run) => parseJson<StartServerResult>(run));
    expect(new Set(starts.map((start) => start.server.port)).size).toBe(1);
    // One data directory, one initdb: a second initdb into the same folder would have failed.
    const log = readFileSync(path.join(root, '15', 'server.log'), 'utf8');
    expect(log.match(/database system is ready to accept connections/g)).toHaveLength(1);
    expect(readdirSync(path.join(root, '15')).filter((name) => name.startsWith('data'))).toEqual(['data']);
    const url = await cliJson<ServerUrl>(root, ['server', 'url']);
    expect(await databaseNames(url.url)).toEqual(expect.arrayContaining(['race_a', 'race_b']));
  });

  it('recovers from a stale pid file: a killed server, and a pid that now belongs to another program', async () => {
    const root = serverDir();
    const project = writeManagedProject(tempDir());
    await cliJson<Seeded>(root, ['seed', '--output', 'before_crash'], { cwd: project });
    const dataDir = path.join(root, '15', 'data');
    const first = postmasterPid(dataDir) as { pid: number; port: number };
    // A crash of the machine, as far as the server's files know: every server process killed at once.
    process.kill(-first.pid, 'SIGKILL');
    await waitFor(() => !alive(first.pid));
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(true);
    await cliJson<Seeded>(root, ['seed', '--output', 'after_crash'], { cwd: project });
    const second = postmasterPid(dataDir) as { pid: number; port: number };
    expect(second.pid).not.toBe(first.pid);
    expect(second.port).toBe(first.port);

    // After a reboot the recorded pid may be some other program's.
    process.kill(-second.pid, 'SIGKILL');
    await waitFor(() => !alive(second.pid));
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
      lines[0] = String(other.pid);
      writeFileSync(path.join(dataDir, 'postmaster.pid'), lines.join('\n'));
      const seeded = await cliJson<Seeded>(root, ['seed', '--output', 'after_reuse'], { cwd: project });
      expect(seeded.database).toBe('after_reuse');
      expect(alive(other.pid as number)).toBe(true);
      expect((postmasterPid(dataDir) as { pid: number }).pid).not.toBe(other.pid);
    } finally {
      other.kill();
    }
    const url = await cliJson<ServerUrl>(root, ['server', 'url']);
    expect(await databaseNames(url.url)).toEqual(expect.arrayContaining(['before_crash', 'after_crash', 'after_reuse']));
  });

  it('moves to a free port when its recorded one was taken meanwhile, and refuses a taken --port', async () => {
    const root = serverDir();
    const first = await cliJson<StartServerResult>(root, ['server', 'start']);
    await cliJson(root, ['server', 'stop']);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(first.server.port, '127.0.0.1', resolve));
    try {
      const moved = await cli(root, ['server', 'start']);
      expect(moved.exitCode).toBe(0);
      expect(moved.stderr).toContain(`port ${first.server.port} is taken by another program; the managed server moves to port`);
      const now = await cliJson<StartServerResult>(root, ['server', 'start']);
      expect(now.server.port).not.toBe(first.server.port);
      await cliJson(root, ['server', 'stop']);
      const refused = await cli(root, ['--json', 'server', 'start', '--port', String(first.server.port)]);
      expect(refused.exitCode).toBe(2);
      expect(parseJson<{ error: { code: string; message: string; hint: string } }>(refused).error).toMatchObject({
        code: 'SERVER_PORT_TAKEN',
        message: expect.stringContaining(`port ${first.server.port}`),
        hint: expect.stringContaining('--port'),
      });
    } finally {
      squatter.close();
    }
  });

  it('finishes a first start that was killed during initdb: the next command starts cleanly', async () => {
    const root = serverDir();
    const child = spawn(process.execPath, [CLI, 'server', 'start'], { env: envOf(managedEnv(root)), detached: true, stdio: 'ignore' });
    const majorDir = path.join(root, '15');
    await waitFor(() => existsSync(majorDir) && readdirSync(majorDir).some((name) => name.startsWith('data.initdb-')), 30_000);
    process.kill(-(child.pid as number), 'SIGKILL');
    await waitFor(() => child.exitCode !== null || child.signalCode !== null);
    expect(existsSync(path.join(majorDir, 'data'))).toBe(false);
    const started = await cliJson<StartServerResult>(root, ['server', 'start']);
    expect(started).toMatchObject({ started: true, initialized: true });
    expect(readdirSync(majorDir).filter((name) => name.startsWith('data') || name.startsWith('.initdb-pw-'))).toEqual(['data']);
  });

  it('leaves an incomplete data directory alone and says what to do', async () => {
    const root = serverDir();
    const dataDir = path.join(root, '15', 'data');
    await cliJson(root, ['server', 'start']);
    await cliJson(root, ['server', 'destroy', '--confirm']);
    mkdirSync(path.join(dataDir, 'base'), { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dataDir, 'base', 'precious'), 'half made');
    if (IS_ROOT) execFileSync('chown', ['-R', 'postgres:postgres', path.join(root, '15')]);
    const result = await cli(root, ['--json', 'server', 'start']);
    expect(result.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string; message: string; hint: string } }>(result).error).toMatchObject({
      code: 'SERVER_DATA_INCOMPLETE',
      message: expect.stringContaining(dataDir),
      hint: expect.stringContaining('leaves it as it is'),
    });
    expect(readFileSync(path.join(dataDir, 'base', 'precious'), 'utf8')).toBe('half made');
  });
});

function envOf(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(vars)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
