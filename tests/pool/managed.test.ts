import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPool, type PoolStatusResult } from '../../src/index.js';
import { tempDir } from '../support/files.js';
import { cliJson, managedEnv, serverDir, sql, writeManagedProject } from '../server/support.js';
import { connectTo, eventually } from './support.js';

interface Seeded {
  database: string;
  url: string;
  fromPool: boolean;
  refill: boolean;
}

/**
 * The pool on dbfast's managed server (no server configured): the pool starts it like any
 * command, leases connect with the URL as given (the server's unix socket), and the seed's
 * background refill fills the managed server.
 */
describe('the pool on the managed server', () => {
  const root = serverDir('dbfast-pool-srv-');
  const project = writeManagedProject(tempDir(), { templateName: 'poolsrv' });
  const configPath = path.join(project, 'dbfast.toml');
  const env = managedEnv(root) as NodeJS.ProcessEnv;

  it('createPool starts the managed server and hands out leases that connect by url and by fields', async () => {
    const pool = await createPool({ configPath, env, size: 1 });
    try {
      const lease = await pool.lease();
      expect(lease.url).toContain(encodeURIComponent(path.join(root, '15', 'socket')));
      // The socket needs no password; the managed server's TCP password never goes into a lease.
      expect(new URL(lease.url).password).toBe('');
      expect(lease.connection.password).toBeUndefined();
      expect(await sql<{ n: number }>(lease.url, 'SELECT count(*)::int AS n FROM app.item')).toEqual([{ n: 2 }]);
      const client = await connectTo(lease.url);
      await client.query("INSERT INTO app.item VALUES (3, 'three')");
      // Left open on purpose: the release ends it.
      expect(await lease.release()).toMatchObject({ outcome: 'dropped' });
      await client.end().catch(() => undefined);
      const again = await pool.lease();
      expect(again.connection).toMatchObject({ host: path.join(root, '15', 'socket'), database: again.database });
      expect(await sql<{ n: number }>(again.url, 'SELECT count(*)::int AS n FROM app.item')).toEqual([{ n: 2 }]);
      expect(await again.release()).toMatchObject({ outcome: 'recycled' });
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('dbfast seed takes a ready database of the managed server, and its background refill makes the next one there', async () => {
    const first = await cliJson<Seeded>(root, ['seed', '--output', 'srv_first'], { cwd: project });
    expect(first).toMatchObject({ database: 'srv_first', fromPool: false, refill: true });
    await eventually(async () => {
      const status = await cliJson<PoolStatusResult>(root, ['pool', 'status'], { cwd: project });
      return status.environments[0]?.ready === 1;
    }, 'the background refill makes a ready database on the managed server');
    expect(readFileSync(path.join(project, '.dbfast', 'pool-fill.log'), 'utf8')).toContain('local: 1 ready of 1 (poolsrv_local); made 1');
    const second = await cliJson<Seeded>(root, ['seed', '--output', 'srv_second'], { cwd: project });
    expect(second).toMatchObject({ database: 'srv_second', fromPool: true });
    expect(await sql<{ n: number }>(second.url, 'SELECT count(*)::int AS n FROM app.item')).toEqual([{ n: 2 }]);
    await eventually(async () => (await cliJson<PoolStatusResult>(root, ['pool', 'status'], { cwd: project })).environments[0]?.ready === 1, 'the next refill');
    expect((await cliJson<{ dropped: unknown[] }>(root, ['pool', 'drain'], { cwd: project })).dropped).toHaveLength(1);
  });
});
