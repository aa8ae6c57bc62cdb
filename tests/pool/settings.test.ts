import { describe, expect, it } from 'vitest';
import { createPool } from '../../src/index.js';
import { local, query } from '../support/db.js';
import { connectTo, pooledOf, POOL_FILES } from './support.js';
import { makeProject } from '../support/project.js';

const server = local.adminUrl;

/** What a session on `url` sees of the template's database settings. */
async function sessionSettings(url: string): Promise<{ claim: string; path: string }> {
  const client = await connectTo(url);
  try {
    const row = (await client.query<{ claim: string; path: string }>("SELECT current_setting('request.jwt.claim.id') AS claim, current_setting('search_path') AS path")).rows[0];
    return row ?? { claim: '', path: '' };
  } finally {
    await client.end();
  }
}

describe('createPool: database settings', () => {
  it("a leased database has the template's ALTER DATABASE ... SET settings (CREATE DATABASE ... TEMPLATE does not copy them), and keeps them when recycled", async () => {
    const project = makeProject({
      files: {
        ...POOL_FILES,
        '0_schema/000_settings.sql': `ALTER DATABASE :"DBNAME" SET request.jwt.claim.id = '-1';\nALTER DATABASE :"DBNAME" SET search_path = app, public;\n`,
      },
      environments: '[environments.local]\n\n[pool]\nmax_clones = 200\n',
    });
    const pool = await createPool({ config: project.config(), size: 1 });
    try {
      const first = await pool.lease();
      expect(await sessionSettings(first.url)).toEqual({ claim: '-1', path: 'app, public' });
      const released = await first.release();
      // Reading settings changes nothing: the database goes back to the pool with them.
      expect(released.outcome).toBe('recycled');
      const again = await pool.lease();
      expect(await sessionSettings(again.url)).toEqual({ claim: '-1', path: 'app, public' });
      await again.release();
    } finally {
      await pool.close({ drain: true });
    }
    expect(await pooledOf(server, project.template())).toEqual([]);
  });

  it("a clone made by the background refill has them too (checked in the catalog, before anyone connects)", async () => {
    const project = makeProject({
      files: { ...POOL_FILES, '0_schema/000_settings.sql': `ALTER DATABASE :"DBNAME" SET request.jwt.claim.id = '7';\n` },
      environments: '[environments.local]\n\n[pool]\nmax_clones = 200\n',
    });
    const pool = await createPool({ config: project.config(), size: 2 });
    try {
      const ready = (await pooledOf(server, project.template())).filter((row) => row.state === 'ready');
      expect(ready.length).toBe(2);
      for (const row of ready) {
        const settings = await query<{ setconfig: string[] }>(server, 'SELECT setconfig FROM pg_db_role_setting WHERE setdatabase = $1 AND setrole = 0', [row.oid]);
        expect(settings.map((entry) => entry.setconfig)).toEqual([['request.jwt.claim.id=7']]);
      }
    } finally {
      await pool.close({ drain: true });
    }
  });
});
