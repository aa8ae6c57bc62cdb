import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query } from '../support/db.js';
import { asAccount, cli, createRemoteAccount } from '../support/backup.js';
import { failingRestoreBinDir, snapshot, writeDeployProject } from '../support/deploy.js';
import { remoteDatabaseExists, startCli, waitUntil } from '../support/interrupt.js';

interface HistoryJson {
  source: string;
  deploys: Array<{ deployId: string; kind: string; result: string; error: string | null; phases: Array<{ name: string }> }>;
}

function tmpEntries(dir: string): string[] {
  try {
    return readdirSync(path.join(dir, '.dbfast', 'tmp'));
  } catch {
    return [];
  }
}

describe('a deploy interrupted with Ctrl-C', () => {
  it('during the restore: exits 130, drops the side database, removes the template dump (issue 9.12), records what is live', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'intr' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account, backup: false }], { pgBinDir: failingRestoreBinDir({ delaySeconds: 30, fail: false }) });
    const running = startCli(project, ['deploy', '--remote', 'staging']);
    await waitUntil('the side database exists', () => remoteDatabaseExists(`${account.database}__dbfast_new`), { running });
    await waitUntil('the template dump is written', () => tmpEntries(project.dir).length > 0, { running });
    process.kill(running.child.pid as number, 'SIGINT');
    const exit = await running.exited;
    expect(exit.code, running.stderr()).toBe(130);
    expect(tmpEntries(project.dir)).toEqual([]);
    expect(await remoteDatabaseExists(`${account.database}__dbfast_new`)).toBe(false);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging', '--local']));
    expect(history.deploys[0]).toMatchObject({ kind: 'deploy', result: 'interrupted' });
    expect(history.deploys[0]?.error).toMatch(/during restore.*live database is untouched/s);
  });

  it('after the swap, during a post hook: exits 130 and the history says the new database is live (issue 9.13)', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'intp' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const project = writeDeployProject([{ name: 'staging', account, backup: false, deploy: { post: ['echo smoke testing; sleep 60'] } }]);
    const running = startCli(project, ['deploy', '--remote', 'staging']);
    await waitUntil('the post hook runs', () => running.stderr().includes('[post] smoke testing'), { running, timeoutMs: 120_000 });
    process.kill(running.child.pid as number, 'SIGINT');
    const exit = await running.exited;
    expect(exit.code, running.stderr()).toBe(130);
    expect(running.stderr()).toMatch(/the new database is live/);
    // The new database stays live (a rollback would be the user's call), and the history says so, on the remote too.
    expect((await query<{ n: number }>(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]?.n).toBe(3);
    for (const where of [[], ['--local']]) {
      const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging', ...where]));
      expect(history.deploys[0], where.join(' ')).toMatchObject({ kind: 'deploy', result: 'interrupted' });
      expect(history.deploys[0]?.error).toMatch(/during post-hooks.*the new database is live.*__dbfast_prev/s);
      expect(history.deploys[0]?.phases.map((p) => p.name)).toContain('swap');
    }
    const status = parseJson<{ lastEvent: { kind: string; result: string } }>(await cli(project, ['--json', 'status', '--remote', 'staging']));
    expect(status.lastEvent).toMatchObject({ kind: 'deploy', result: 'interrupted' });
    // `dbfast rollback` puts the previous database back.
    expect((await cli(project, ['rollback', '--remote', 'staging'])).exitCode).toBe(0);
    expect(await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM keep_me')).toEqual([{ n: 1 }]);
  });
});

describe('a deploy killed outright (SIGKILL)', () => {
  it('after the swap, during a post hook: the history (remote and local) still says the new database is live', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'kilp' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const project = writeDeployProject([{ name: 'staging', account, backup: false, deploy: { post: ['echo smoke testing; sleep 60'] } }]);
    const running = startCli(project, ['deploy', '--remote', 'staging']);
    await waitUntil('the post hook runs', () => running.stderr().includes('[post] smoke testing'), { running, timeoutMs: 120_000 });
    process.kill(-(running.child.pid as number), 'SIGKILL');
    await running.exited;
    for (const where of [[], ['--local']]) {
      const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging', ...where]));
      expect(history.deploys, where.join(' ')).toHaveLength(1);
      expect(history.deploys[0]).toMatchObject({ kind: 'deploy', result: 'running' });
      expect(history.deploys[0]?.error).toMatch(/after swap\): the new database is live.*__dbfast_prev.*killed/s);
    }
    expect((await query<{ n: number }>(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]?.n).toBe(3);
  });
});
