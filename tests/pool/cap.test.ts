import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool, type Lease } from '../../src/index.js';
import { startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { query } from '../support/db.js';
import { makeProject } from '../support/project.js';
import { POOL_FILES, connectTo, spawnScript } from './support.js';

/**
 * The cap is server-wide, so these tests get a server of their own: other test files' pools on
 * the shared one would count against it.
 */
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ name: 'pool-cap', binDir: inject('pgBinDir'), scram: false });
});

afterAll(() => {
  if (cluster) stopCluster(cluster);
});

function project(): ReturnType<typeof makeProject> {
  return makeProject({ files: POOL_FILES, url: cluster.adminUrl });
}

/** Pooled databases on the server plus the ones being made (reserved, not yet visible): what max_clones caps. */
async function heldOnServer(): Promise<number> {
  const rows = await query<{ n: number }>(
    cluster.adminUrl,
    `SELECT (SELECT count(*) FROM pg_database WHERE datname ~ '__dbfast_(ready|lease|trash)_[0-9a-f]{8}$')
          + (SELECT count(*) FROM pg_stat_activity a WHERE a.application_name LIKE 'dbfast creating %'
               AND NOT EXISTS (SELECT 1 FROM pg_database d WHERE right(d.datname, 8) = split_part(a.application_name, ' ', 3))) AS n`,
  );
  return Number(rows[0]?.n);
}

/** Samples heldOnServer() until stopped; resolves to the highest count seen. */
function monitor(): { stop(): Promise<number> } {
  let running = true;
  let max = 0;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, await heldOnServer());
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return max;
    },
  };
}

async function writeAndRelease(lease: Lease): Promise<void> {
  const client = await connectTo(lease.url);
  await client.query("INSERT INTO item (name) VALUES ('written')");
  await client.end();
  await new Promise((resolve) => setTimeout(resolve, 20));
  await lease.release();
}

describe('max_clones: one cap per server', () => {
  it('holds under 20 concurrent lease() calls, and every call is served as databases come back', async () => {
    const pool = await createPool({ config: project().config(), size: 2, maxClones: 5 });
    const watch = monitor();
    try {
      await Promise.all(Array.from({ length: 20 }, async () => writeAndRelease(await pool.lease())));
      expect(pool.stats()).toMatchObject({ served: 20, dropped: 20, leased: 0 });
    } finally {
      const max = await watch.stop();
      await pool.close({ drain: true });
      expect(max).toBeGreaterThan(0);
      expect(max).toBeLessThanOrEqual(5);
    }
  });

  it('lease() waits, then fails with POOL_TIMEOUT saying what holds the databases', async () => {
    // Both databases are made before createPool resolves, so no lease here waits for a clone (a slow machine cannot fail it).
    const pool = await createPool({ config: project().config(), size: 2, maxClones: 2, leaseTimeoutMs: 1500 });
    try {
      const held = [await pool.lease(), await pool.lease()];
      const started = Date.now();
      const error = await pool.lease().catch((e: unknown) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
      expect(error).toMatchObject({ code: 'POOL_TIMEOUT', exitCode: 1 });
      expect((error as Error).message).toMatch(/within 1\.5 s: the server holds 2 pooled databases and max_clones is 2 \(2 leased by this process/);
      expect((error as { hint: string }).hint).toMatch(/release|max_clones|drop --stale/);
      // A release frees room: the next lease is served (the database came back unchanged, so with no clone to wait for).
      expect(await (held[0] as Lease).release()).toMatchObject({ outcome: 'recycled' });
      const next = await pool.lease();
      await next.release();
      await (held[1] as Lease).release();
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('two processes with pools of different templates on one server respect one cap', async () => {
    const script = (configPath: string): string => `
      const pg = (await import('pg')).default;
      const pool = await api.createPool({ configPath: ${JSON.stringify(configPath)}, size: 2, maxClones: 4, leaseTimeoutMs: 120000 });
      console.log('ready');
      await Promise.all(Array.from({ length: 8 }, async () => {
        const lease = await pool.lease();
        const client = new pg.Client({ connectionString: lease.url });
        await client.connect();
        await client.query("INSERT INTO item (name) VALUES ('x')");
        await client.end();
        await new Promise((resolve) => setTimeout(resolve, 50));
        await lease.release();
      }));
      console.log('served ' + pool.stats().served);
      await pool.close({ drain: true });
      console.log('closed');
    `;
    const watch = monitor();
    const children = [project(), project()].map((p) => spawnScript(script(p.configPath), { DBFAST_CONFIG: '' }));
    try {
      await Promise.all(children.map((child) => child.waitFor('closed', 240_000)));
      for (const child of children) {
        expect(child.lines).toContain('served 8');
        expect(await child.exited).toBe(0);
      }
    } finally {
      for (const child of children) child.child.kill('SIGKILL');
      const max = await watch.stop();
      expect(max).toBeGreaterThan(0);
      expect(max).toBeLessThanOrEqual(4);
    }
  });
});
