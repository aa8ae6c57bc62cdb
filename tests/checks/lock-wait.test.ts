import { spawn } from 'node:child_process';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { CLI, parseJson, type CliResult } from '../support/cli.js';
import { createRemoteAccount, cli, seedShop, writeProject, type RemoteAccount } from '../support/backup.js';
import { snapshot, writeDeployProject } from '../support/deploy.js';

/** A session of the account itself (so every column of pg_stat_activity is visible to it) holding a table lock. */
async function lockTable(account: RemoteAccount, table: string): Promise<{ pid: number; release: () => Promise<void> }> {
  const client = new pg.Client({
    host: inject('remoteTcpHost'),
    port: inject('remoteTcpPort'),
    user: account.role,
    password: account.password,
    database: account.database,
    application_name: 'nightly-report',
  });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  return {
    pid,
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

describe('a locked table on the live database', () => {
  it('backup --lock-timeout gives up, naming who holds the lock: pid, user, application, query start', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'lockbk' });
    await seedShop(account, 10);
    const project = writeProject([{ name: 'target', account }]);
    const lock = await lockTable(account, 'shop.customer');
    try {
      const result = await cli(project, ['--json', 'backup', 'create', '--remote', 'target', '--lock-timeout', '2']);
      expect(result.exitCode, result.stdout + result.stderr).toBe(1);
      const error = parseJson<{ error: { code: string; message: string; hint: string } }>(result).error;
      expect(error.code).toBe('LOCK_TIMEOUT');
      expect(error.message).toContain(`waiting for a lock on shop.customer held by pid ${lock.pid} (user ${account.role}, application "nightly-report"`);
      expect(error.message).toMatch(/query started \d{4}-\d\d-\d\dT/);
      expect(error.hint).toContain('--lock-timeout');
    } finally {
      await lock.release();
    }
  });

  it('without --lock-timeout the backup waits, saying who blocks it, and finishes once the lock is released', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'lockwait' });
    await seedShop(account, 10);
    const project = writeProject([{ name: 'target', account }]);
    const lock = await lockTable(account, 'shop.customer');
    let released = false;
    const result = await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'backup', 'create', '--remote', 'target'], { cwd: project.dir, env: { ...process.env, ...project.env, NO_COLOR: '1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        // Released only once dbfast has said who it waits for: the message is the point.
        if (!released && stderr.includes(`held by pid ${lock.pid}`)) {
          released = true;
          void lock.release();
        }
      });
      child.on('error', reject);
      child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr }));
    });
    if (!released) await lock.release();
    expect(released, result.stderr).toBe(true);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`warning: the dump of database "${account.database}" on \\S+ is waiting for a lock on shop.customer held by pid ${lock.pid} \\(user ${account.role}, application "nightly-report"`));
    expect(result.stderr).toContain('waiting until it is released (--lock-timeout SECONDS gives up instead)');
    expect(result.stdout).toMatch(/^backup \S+ of "/);
  });

  it('deploy --lock-timeout stops at its backup with the same report; the live database is untouched', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'lockdep' });
    await seedShop(account, 10);
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account }]);
    const lock = await lockTable(account, 'shop.purchase');
    try {
      const result = await cli(project, ['--json', 'deploy', 'staging', '--lock-timeout', '2']);
      expect(result.exitCode, result.stdout + result.stderr).toBe(1);
      const error = parseJson<{ error: { code: string; message: string } }>(result).error;
      expect(error.code).toBe('LOCK_TIMEOUT');
      expect(error.message).toContain(`held by pid ${lock.pid}`);
    } finally {
      await lock.release();
    }
    expect(snapshot(account.adminDbUrl)).toBe(before);
  });
});
