import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServerUrl } from '../../src/index.js';
import { parseJson } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { cli, cliJson, databaseNames, serverDir, sql, writeManagedProject } from './support.js';

interface Seeded {
  database: string;
  rebuilt: boolean;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('seeding on the managed server when it goes away or comes back damaged', () => {
  it('`server stop` during a seed: the seed fails cleanly (exit 1, the cause named), the next command starts the server again', async () => {
    const root = serverDir();
    const slow = 'db/1_seed_common/002_slow.sql';
    const project = writeManagedProject(tempDir(), { files: { [slow]: 'SELECT pg_sleep(30);\n' } });
    const url = (await cliJson<ServerUrl>(root, ['server', 'url'])).url;
    const seeding = cli(root, ['--json', 'seed', '--output', 'interrupted'], { cwd: project });
    let finished = false;
    void seeding.then(() => (finished = true));
    await waitFor(async () => {
      if (finished) throw new Error(`the seed finished before the server was stopped:\n${JSON.stringify(await seeding)}`);
      const rows = await sql<{ n: string }>(url, "SELECT count(*)::text AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()");
      return rows[0]?.n === '1';
    });
    const stopped = await cli(root, ['server', 'stop']);
    expect(stopped.exitCode).toBe(0);
    const result = await seeding;
    expect(result.exitCode).toBe(1);
    const error = parseJson<{ error: { code: string; message: string; hint: string } }>(result).error;
    expect(error.code).toBe('SERVER_SHUT_DOWN');
    expect(error.message).toMatch(/the local PostgreSQL server shut down/);
    expect(error.hint).toContain('Run the command again');

    rmSync(path.join(project, slow));
    const seeded = await cliJson<Seeded>(root, ['seed', '--output', 'after_stop'], { cwd: project });
    expect(seeded).toMatchObject({ database: 'after_stop', rebuilt: true });
    expect(await databaseNames(url)).toContain('after_stop');
    // The side database the stopped seed left is dropped by the background worker that seed started.
    await waitFor(async () => (await databaseNames(url)).filter((name) => name.includes('__dbfast_')).length === 0);
  });

  it('rebuilds a template whose files were lost (an unclean shutdown without fsync) instead of failing', async () => {
    const root = serverDir();
    const project = writeManagedProject(tempDir());
    await cliJson<Seeded>(root, ['seed', '--output', 'before_damage'], { cwd: project });
    const url = (await cliJson<ServerUrl>(root, ['server', 'url'])).url;
    await sql(url, 'ALTER DATABASE srv_local ALLOW_CONNECTIONS true');
    const templateUrl = url.replace('/postgres?', '/srv_local?');
    const [file] = await sql<{ path: string }>(templateUrl, "SELECT pg_relation_filepath('app.item') AS path");
    await sql(url, 'ALTER DATABASE srv_local ALLOW_CONNECTIONS false');
    await cliJson(root, ['server', 'stop']);
    const lost = path.join(root, '15', 'data', (file as { path: string }).path);
    expect(existsSync(lost)).toBe(true);
    rmSync(lost);

    const result = await cli(root, ['--json', 'seed', '--output', 'after_damage'], { cwd: project });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(parseJson<Seeded>(result)).toMatchObject({ database: 'after_damage', rebuilt: true });
    const clone = url.replace('/postgres?', '/after_damage?');
    expect(await sql(clone, 'SELECT count(*)::int AS n FROM app.item')).toEqual([{ n: 2 }]);
    const next = await cliJson<Seeded>(root, ['seed', '--output', 'after_rebuild'], { cwd: project });
    expect(next.rebuilt).toBe(false);
  });
});
