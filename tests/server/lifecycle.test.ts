import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { ServerStatus, ServerUrl, StartServerResult } from '../../src/index.js';
import { parseJson } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { IS_ROOT, alive, cli, cliJson, databaseNames, postmasterPid, processUser, serverDir, sql, writeManagedProject } from './support.js';

interface Seeded {
  database: string;
  url: string;
  rebuilt: boolean;
}

describe('the managed server: first start, reuse, stop and start again, destroy', () => {
  const root = serverDir();
  const project = writeManagedProject(tempDir());
  const dataDir = path.join(root, '15', 'data');

  it('is started by the first command that needs it (initdb), detached, and keeps running after it', async () => {
    const seeded = await cliJson<Seeded>(root, ['seed', '--output', 'first_db'], { cwd: project });
    expect(seeded).toMatchObject({ database: 'first_db', rebuilt: true });
    expect(seeded.url).toContain(`host=${encodeURIComponent(path.join(root, '15', 'socket'))}`);
    const pid = postmasterPid(dataDir);
    expect(pid && alive(pid.pid)).toBe(true);
    const url = await cliJson<ServerUrl>(root, ['server', 'url']);
    expect(await databaseNames(url.url)).toContain('first_db');
    expect(readFileSync(path.join(root, '15', 'server.log'), 'utf8')).toContain('database system is ready to accept connections');
  });

  it('is safe by default: 127.0.0.1 only, a 0700 socket folder, a 0600 password, never trust over TCP', async () => {
    const { server } = await cliJson<StartServerResult>(root, ['server', 'start']);
    const [settings] = await sql<{ listen: string; fsync: string }>(
      (await cliJson<ServerUrl>(root, ['server', 'url'])).url,
      "SELECT current_setting('listen_addresses') AS listen, current_setting('fsync') AS fsync",
    );
    expect(settings).toEqual({ listen: '127.0.0.1', fsync: 'off' });
    expect(statSync(server.socketDir).mode & 0o777).toBe(0o700);
    expect(statSync(server.passwordFile).mode & 0o777).toBe(0o600);
    expect(statSync(server.pgpassFile).mode & 0o777).toBe(0o600);
    const tcp = { host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' };
    const noPassword = new pg.Client({ ...tcp, password: 'wrong' });
    await expect(noPassword.connect()).rejects.toThrow(/password authentication failed/);
    const password = readFileSync(server.passwordFile, 'utf8').trim();
    const withPassword = new pg.Client({ ...tcp, password });
    await withPassword.connect();
    await withPassword.end();
    expect(readFileSync(server.pgpassFile, 'utf8')).toContain(`127.0.0.1:${server.port}:*:postgres:`);
  });

  it('is reused by the next command: same process, no initdb', async () => {
    const before = postmasterPid(dataDir);
    const started = await cliJson<StartServerResult>(root, ['server', 'start']);
    expect(started).toMatchObject({ started: false, initialized: false });
    const seeded = await cliJson<Seeded>(root, ['seed', '--output', 'second_db'], { cwd: project });
    expect(seeded.rebuilt).toBe(false);
    expect(postmasterPid(dataDir)).toEqual(before);
  });

  it('runs as an unprivileged OS user when dbfast is root, and as the user itself otherwise', () => {
    const pid = postmasterPid(dataDir) as { pid: number };
    const owner = IS_ROOT ? 'postgres' : processUser(process.pid);
    expect(processUser(pid.pid)).toBe(owner);
  });

  it('reports its status: version, binaries, port, socket, data, size, uptime, databases dbfast made', async () => {
    const status = await cliJson<ServerStatus>(root, ['server', 'status']);
    expect(status).toMatchObject({ root, rootSource: 'DBFAST_SERVER_DIR', exists: true, running: true });
    expect(status.server).toMatchObject({ major: 15, origin: 'system', dataDir, durable: false, osUser: IS_ROOT ? 'postgres' : expect.any(String) });
    expect(status.sizeBytes).toBeGreaterThan(10_000_000);
    expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0);
    // Besides these, the ready database the seeds' background refill makes (once it has made it) lists as the pool's.
    expect(status.databases.filter((db) => db.kind !== 'pool').map((db) => `${db.name}:${db.kind}`)).toEqual(['first_db:clone', 'second_db:clone', 'srv_local:template']);
    for (const pooled of status.databases.filter((db) => db.kind === 'pool')) expect(pooled.name).toMatch(/^srv_local__dbfast_ready_[0-9a-f]{8}$/);
    expect(status.pgDump).toMatchObject({ canDump: true });
    const text = await cli(root, ['server', 'status']);
    expect(text.stdout).toMatch(/managed PostgreSQL server: running\n {2}version {4}15\.\d+ \(system binaries/);
    const logs = await cli(root, ['server', 'logs', '-n', '3']);
    expect(logs.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('stops (sessions ended), reports it, and is started again by the next command that needs it, on the same port', async () => {
    const before = postmasterPid(dataDir) as { pid: number; port: number };
    const stopped = await cliJson<{ stopped: Array<{ major: number; port: number }> }>(root, ['server', 'stop']);
    expect(stopped.stopped).toEqual([{ major: 15, port: before.port }]);
    expect(alive(before.pid)).toBe(false);
    expect((await cliJson<ServerStatus>(root, ['server', 'status'])).running).toBe(false);
    expect((await cli(root, ['server', 'stop'])).stdout).toContain('was not running');
    const seeded = await cliJson<Seeded>(root, ['seed', '--output', 'third_db'], { cwd: project });
    expect(seeded.rebuilt).toBe(false);
    const after = postmasterPid(dataDir) as { pid: number; port: number };
    expect(after.pid).not.toBe(before.pid);
    expect(after.port).toBe(before.port);
  });

  it('keeps PostgreSQL\'s durable defaults with --durable (remembered), and goes back with --no-durable', async () => {
    const url = (await cliJson<ServerUrl>(root, ['server', 'url'])).url;
    await cliJson(root, ['server', 'start', '--durable']);
    expect(await sql(url, "SELECT current_setting('fsync') AS f, current_setting('full_page_writes') AS p")).toEqual([{ f: 'on', p: 'on' }]);
    await cliJson(root, ['server', 'stop']);
    await cliJson(root, ['server', 'start']);
    // Asked again after the restart: a server whose port another program took meanwhile moves.
    const restarted = (await cliJson<ServerUrl>(root, ['server', 'url'])).url;
    expect(await sql(restarted, "SELECT current_setting('fsync') AS f")).toEqual([{ f: 'on' }]);
    await cliJson(root, ['server', 'start', '--no-durable']);
    expect(await sql(restarted, "SELECT current_setting('fsync') AS f, current_setting('synchronous_commit') AS s")).toEqual([{ f: 'off', s: 'off' }]);
  });

  it('is destroyed only with --confirm, and only what dbfast made goes', async () => {
    const mine = path.join(root, 'notes.txt');
    writeFileSync(mine, 'not dbfast\'s');
    const refused = await cli(root, ['--json', 'server', 'destroy']);
    expect(refused.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string } }>(refused).error.code).toBe('CONFIRMATION_REQUIRED');
    expect(existsSync(dataDir)).toBe(true);
    const pid = postmasterPid(dataDir) as { pid: number };
    const destroyed = await cliJson<{ removed: string[]; stopped: unknown[]; freedBytes: number }>(root, ['server', 'destroy', '--confirm']);
    expect(destroyed.stopped).toHaveLength(1);
    expect(destroyed.freedBytes).toBeGreaterThan(10_000_000);
    expect(alive(pid.pid)).toBe(false);
    expect(existsSync(path.join(root, '15'))).toBe(false);
    expect(existsSync(path.join(root, 'state.json'))).toBe(false);
    expect(readFileSync(mine, 'utf8')).toBe('not dbfast\'s');
    expect((await cliJson<ServerStatus>(root, ['server', 'status'])).exists).toBe(false);
  });
});
