import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import pg from 'pg';
import { freshDatabase, local, query, remote } from '../support/db.js';

describe('test harness', () => {
  it('starts a local cluster that answers', async () => {
    const rows = await query<{ v: string }>(local.adminUrl, "SELECT current_setting('server_version_num') AS v");
    expect(Number(rows[0]?.v)).toBeGreaterThanOrEqual(140000);
  });

  it('starts a remote cluster, separate from the local one', async () => {
    const [l] = await query<{ port: string }>(local.adminUrl, "SELECT current_setting('port') AS port");
    const [r] = await query<{ port: string }>(remote.adminUrl, "SELECT current_setting('port') AS port");
    expect(r?.port).not.toBe(l?.port);
  });

  it('refuses a wrong password over TCP on the remote (scram)', async () => {
    const role = `role_${Date.now()}`;
    await query(remote.adminUrl, `CREATE ROLE "${role}" LOGIN PASSWORD 'right-password'`);
    try {
      const connectWith = async (password: string) => {
        const client = new pg.Client({ host: inject('remoteTcpHost'), port: inject('remoteTcpPort'), user: role, password, database: 'postgres' });
        await client.connect();
        await client.end();
      };
      await expect(connectWith('right-password')).resolves.toBeUndefined();
      await expect(connectWith('wrong-password')).rejects.toThrow(/password authentication failed/);
    } finally {
      await query(remote.adminUrl, `DROP ROLE "${role}"`);
    }
  });

  it('gives each test a fresh database', async () => {
    const a = await freshDatabase(local);
    const b = await freshDatabase(local);
    expect(a.name).not.toBe(b.name);
    await query(a.url, 'CREATE TABLE only_in_a (id int)');
    const inB = await query(b.url, "SELECT 1 FROM pg_class WHERE relname = 'only_in_a'");
    expect(inB).toHaveLength(0);
  });
});
