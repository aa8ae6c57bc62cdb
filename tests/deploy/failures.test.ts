import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, parseJson } from '../support/cli.js';
import { query, remote, urlFor } from '../support/db.js';
import { asAccount, cli, createRemoteAccount, trackRemoteDatabase } from '../support/backup.js';
import { failingRestoreBinDir, snapshot, writeDeployProject } from '../support/deploy.js';
import { tempDir } from '../support/files.js';

async function exists(name: string): Promise<boolean> {
  return (await query(remote.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('deploy failures leave the live database untouched', () => {
  it('a restore that dies half-way: side database dropped, live identical', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'rf' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account }], { pgBinDir: failingRestoreBinDir() });
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stdout).toBe(1);
    expect(parseJson<{ error: { message: string } }>(result).error.message).toMatch(/simulated failure/);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(await exists(`${account.database}__dbfast_new`)).toBe(false);
    const history = parseJson<{ deploys: Array<{ result: string; error: string }> }>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.result).toBe('failed');
  });

  it('a deploy killed with SIGKILL during the restore: live identical, the next deploy cleans up and succeeds', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'kill' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const before = snapshot(account.adminDbUrl);
    const slow = writeDeployProject([{ name: 'staging', account }], { pgBinDir: failingRestoreBinDir({ delaySeconds: 30, fail: false }) });
    const child = spawn(process.execPath, [CLI, 'deploy', '--remote', 'staging'], { cwd: slow.dir, env: { ...process.env, ...slow.env }, stdio: 'ignore', detached: true });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await waitFor(() => exists(`${account.database}__dbfast_new`), 60_000);
    process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
    expect(snapshot(account.adminDbUrl)).toBe(before);

    const project = writeDeployProject([{ name: 'staging', account }]);
    const next = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    expect(await exists(`${account.database}__dbfast_new`)).toBe(false);
    expect((await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]).toEqual({ n: 3 });
  });

  it('checks that fail after the swap swap the previous database back', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'post' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (7)');
    const before = snapshot(account.adminDbUrl);
    // True in the side database, false once it has the live name.
    const project = writeDeployProject([{ name: 'staging', account, validate: ["select current_database() like '%\\_\\_dbfast\\_new'"] }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode).toBe(1);
    expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('POST_SWAP_CHECK_FAILED');
    expect(snapshot(account.adminDbUrl)).toBe(before);
    const history = parseJson<{ deploys: Array<{ result: string }> }>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.result).toBe('rolled_back');
  });

  it('two deploys at once: the second waits for the lock, or gives up after --lock-timeout', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'two' });
    // The first deploy's restore waits at a gate, so it holds the lock until the impatient one has given up (a fixed delay lost that race under load).
    const gate = path.join(tempDir(), 'open');
    const slow = writeDeployProject([{ name: 'staging', account, backup: false }], { pgBinDir: failingRestoreBinDir({ fail: false, gate }) });
    const first = cli(slow, ['--json', 'deploy', '--remote', 'staging']);
    await waitFor(() => exists(`${account.database}__dbfast_new`), 60_000);
    const impatient = await cli(slow, ['--json', 'deploy', '--remote', 'staging', '--lock-timeout', '1']);
    writeFileSync(gate, '');
    expect(parseJson<{ error: { code: string } }>(impatient).error.code).toBe('LOCK_TIMEOUT');
    const patient = cli(slow, ['--json', 'deploy', '--remote', 'staging']);
    const [a, b] = await Promise.all([first, patient]);
    expect(a.exitCode, a.stdout).toBe(0);
    expect(b.exitCode, b.stdout).toBe(0);
    expect(b.stderr).toBe('');
  });
});

describe('rollback', () => {
  it('swaps the previous database back in, and can restore a backup', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'rb' });
    await asAccount(account, 'CREATE TABLE original (id int); INSERT INTO original VALUES (1), (2)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account }]);
    const deployed = parseJson<{ backupId: string }>(await cli(project, ['--json', 'deploy', '--remote', 'staging']));
    expect(snapshot(account.adminDbUrl)).not.toBe(before);

    const back = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
    expect(back.exitCode, back.stdout).toBe(0);
    expect(parseJson<{ method: string; durationMs: number }>(back).method).toBe('previous');
    expect(snapshot(account.adminDbUrl)).toBe(before);

    // Rolling back again rolls forward (the names were exchanged).
    expect((await cli(project, ['rollback', '--remote', 'staging'])).exitCode).toBe(0);
    expect((await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]).toEqual({ n: 3 });

    const toBackup = await cli(project, ['--json', 'rollback', '--remote', 'staging', '--to', deployed.backupId]);
    expect(toBackup.exitCode, toBackup.stdout + toBackup.stderr).toBe(0);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    const history = parseJson<{ deploys: Array<{ kind: string; result: string }> }>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys.map((d) => d.kind)).toEqual(['rollback', 'rollback', 'rollback', 'deploy']);
  });
});

describe('in place, for a user who may not create databases', () => {
  it('replaces the schemas in one transaction; a failure rolls back', async () => {
    const account = await createRemoteAccount({ createdb: false, prefix: 'inp' });
    await asAccount(account, 'CREATE SCHEMA app; CREATE TABLE app.legacy (id int); INSERT INTO app.legacy VALUES (1); CREATE TABLE public.other (x int)');
    const before = snapshot(account.adminDbUrl);
    const failing = writeDeployProject([{ name: 'staging', account }], { pgBinDir: failingRestoreBinDir() });
    const failed = await cli(failing, ['--json', 'deploy', '--remote', 'staging']);
    expect(failed.exitCode).toBe(1);
    expect(snapshot(account.adminDbUrl)).toBe(before);

    const project = writeDeployProject([{ name: 'staging', account }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(parseJson<{ mode: string }>(result).mode).toBe('in-place');
    expect((await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]).toEqual({ n: 3 });
    expect(await query(account.adminDbUrl, "SELECT 1 FROM pg_class WHERE relname = 'legacy'")).toHaveLength(0);
  });
});

describe('side names are only reclaimed from dbfast', () => {
  it('a database dbfast did not make under a side name: the deploy refuses before changing anything, and it keeps its rows', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'taken' });
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const side = `${account.database}__dbfast_new`;
    trackRemoteDatabase(side);
    await query(remote.adminUrl, `CREATE DATABASE "${side}" OWNER "${account.role}"`);
    await query(urlFor(remote.adminUrl, side), 'CREATE TABLE precious (x int); INSERT INTO precious VALUES (42)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(2);
    const error = parseJson<{ error: { code: string; message: string; hint: string } }>(result).error;
    expect(error.code).toBe('SIDE_NAME_TAKEN');
    expect(error.message).toContain(`"${side}"`);
    expect(error.hint).toMatch(/rename it|drop it yourself/i);
    expect(await query(urlFor(remote.adminUrl, side), 'SELECT x FROM precious')).toEqual([{ x: 42 }]);
    expect(snapshot(account.adminDbUrl)).toBe(before);
  });
});
