import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPool, type Lease } from '../../src/index.js';
import { local, query } from '../support/db.js';
import { connectTo, eventually, itemNames, poolProject, pooledOf, templateOid } from './support.js';

const server = local.adminUrl;

/** Runs statements on a leased database over one session, then closes it (unless `leaveOpen`). */
async function runOn(lease: Lease, statements: readonly string[], leaveOpen = false): Promise<pg.Client> {
  const client = await connectTo(lease.url);
  for (const sql of statements) await client.query(sql);
  if (!leaveOpen) await client.end();
  return client;
}

describe('createPool: leases', () => {
  it('hands out distinct, existing, complete databases of the current template build, and keeps `size` ready', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 3 });
    try {
      expect(pool.stats()).toMatchObject({ template: project.template(), size: 3, ready: 3, leased: 0 });
      const oid = await templateOid(server, project.template());
      const leases = await Promise.all(Array.from({ length: 5 }, () => pool.lease()));
      expect(new Set(leases.map((lease) => lease.database)).size).toBe(5);
      for (const lease of leases) {
        expect(await itemNames(server, lease.database)).toEqual(['kettle', 'teapot']);
        // The connection fields connect as they are, and name the same database.
        const viaFields = new pg.Client(lease.connection);
        await viaFields.connect();
        expect((await viaFields.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db).toBe(lease.database);
        await viaFields.end();
      }
      const pooled = await pooledOf(server, project.template());
      for (const lease of leases) {
        const row = pooled.find((entry) => entry.name === lease.database);
        expect(row?.state).toBe('lease');
        // Marked as dbfast's, from this build of the template, made by this process.
        expect(row?.marker).toMatchObject({ template: project.template(), templateOid: oid, createdBy: { pid: process.pid } });
      }
      expect(pool.stats()).toMatchObject({ leased: 5, served: 5 });
      await Promise.all(leases.map((lease) => lease.release()));
    } finally {
      await pool.close({ drain: true });
    }
    await eventually(async () => (await pooledOf(server, project.template())).length === 0, 'close({ drain: true }) left nothing');
  });

  it('recycles a provably unchanged database and drops every kind of change', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 1 });
    const cases: Array<{ what: string; statements: string[]; admin?: (database: string) => string; outcome: 'recycled' | 'dropped'; reason?: RegExp }> = [
      { what: 'a SELECT', statements: ['SELECT * FROM item'], outcome: 'recycled' },
      { what: 'SELECT ... FOR UPDATE (a row lock, no data change)', statements: ['BEGIN', 'SELECT * FROM item FOR UPDATE', 'COMMIT'], outcome: 'recycled' },
      { what: 'DDL', statements: ['CREATE TABLE extra (id int)'], outcome: 'dropped', reason: /inserted/ },
      { what: 'nextval on a serial', statements: ["SELECT nextval('item_id_seq')"], outcome: 'dropped', reason: /sequence moved/ },
      { what: 'nextval on a sequence of its own', statements: ["SELECT nextval('ticket')"], outcome: 'dropped', reason: /sequence moved/ },
      { what: 'setval back to where it was', statements: ["SELECT setval('ticket', 1, false)"], outcome: 'recycled' },
      { what: 'a temp table', statements: ['CREATE TEMP TABLE scratch (id int)', 'INSERT INTO scratch VALUES (1)'], outcome: 'dropped', reason: /inserted/ },
      { what: 'a write rolled back', statements: ['BEGIN', "INSERT INTO item (id, name) VALUES (100, 'mug')", 'ROLLBACK'], outcome: 'dropped', reason: /inserted/ },
      { what: 'a write committed, then deleted', statements: ["INSERT INTO item (id, name) VALUES (100, 'mug')", 'DELETE FROM item WHERE id = 100'], outcome: 'dropped', reason: /inserted, deleted/ },
      { what: 'TRUNCATE', statements: ['TRUNCATE item'], outcome: 'dropped', reason: /updated/ },
      { what: 'a write, then pg_stat_reset()', statements: ["UPDATE item SET name = 'pot' WHERE id = 2", 'SELECT pg_stat_reset()'], outcome: 'dropped', reason: /reset/ },
      { what: 'ALTER DATABASE ... SET', statements: [], admin: (database) => `ALTER DATABASE "${database}" SET work_mem = '8MB'`, outcome: 'dropped', reason: /settings/ },
    ];
    const dropped: number[] = [];
    try {
      for (const entry of cases) {
        const lease = await pool.lease();
        const oid = (await pooledOf(server, project.template())).find((row) => row.name === lease.database)?.oid as number;
        expect(dropped, `${entry.what}: a dropped database was handed out again`).not.toContain(oid);
        await runOn(lease, entry.statements);
        if (entry.admin) await query(server, entry.admin(lease.database));
        const result = await lease.release();
        expect(result.outcome, `${entry.what}: ${result.reason}`).toBe(entry.outcome);
        if (entry.reason) expect(result.reason).toMatch(entry.reason);
        const after = await pooledOf(server, project.template());
        if (entry.outcome === 'recycled') {
          // Back in the pool under a new name: the same database (oid), now ready.
          expect(after.find((row) => row.oid === oid)).toMatchObject({ state: 'ready', name: result.database });
          expect(result.database).not.toBe(lease.database);
        } else {
          dropped.push(oid);
          // Never ready again; gone once the background drop has run.
          expect(after.find((row) => row.oid === oid)?.state ?? 'gone').not.toBe('ready');
          await eventually(async () => !(await pooledOf(server, project.template())).some((row) => row.oid === oid), `${entry.what}: dropped`);
        }
      }
      expect(pool.stats()).toMatchObject({ recycled: 3, dropped: cases.length - 3 });
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('release ends the sessions a test left open, and the old name stops working', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 1 });
    try {
      const lease = await pool.lease();
      const idle = await runOn(lease, ['SELECT 1'], true);
      const inTransaction = await runOn(lease, ['BEGIN', 'SELECT count(*) FROM item'], true);
      const ended = [idle, inTransaction].map((client) => new Promise<void>((resolve) => client.on('end', () => resolve())));
      const result = await lease.release();
      await Promise.all(ended);
      // Read-only sessions: recycled, under a new name; whoever kept the old URL cannot get in.
      expect(result.outcome).toBe('recycled');
      const late = await connectTo(lease.url).catch((error: unknown) => error);
      expect(late).toMatchObject({ code: '3D000' });
      // An uncommitted write in a session left open is a change: rolled back by the termination, then dropped.
      const second = await pool.lease();
      const writer = await runOn(second, ['BEGIN', "INSERT INTO item (name) VALUES ('left open')"], true);
      const writerEnded = new Promise<void>((resolve) => writer.on('end', () => resolve()));
      const dropped = await second.release();
      await writerEnded;
      expect(dropped).toMatchObject({ outcome: 'dropped', reason: expect.stringMatching(/inserted/) });
      // A second release returns the first answer.
      expect(await second.release()).toEqual(dropped);
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('keep: true keeps the database, says where it is, and it lists as a clone', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 1 });
    try {
      const lease = await pool.lease();
      await runOn(lease, ["INSERT INTO item (name) VALUES ('evidence')"]);
      const kept = await lease.release({ keep: true });
      expect(kept).toMatchObject({ outcome: 'kept', reason: null });
      expect(kept.database).toMatch(new RegExp(`^${project.template()}__dbfast_kept_[0-9a-f]{8}$`));
      expect(kept.url).toContain(`/${kept.database}`);
      expect(await itemNames(server, kept.database)).toEqual(['kettle', 'teapot', 'evidence']);
      const { list } = await import('../../src/index.js');
      const listed = (await list({ config: project.config() })).databases.find((database) => database.name === kept.database);
      expect(listed).toMatchObject({ kind: 'clone', template: project.template() });
    } finally {
      await pool.close({ drain: true });
    }
    // Neither close nor drain touches it.
    expect((await pooledOf(server, project.template())).map((row) => row.state)).toEqual(['kept']);
  });

  it('a recycled lease never leaves the pool over its size: the refill it no longer needs is dropped', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 1 });
    try {
      const lease = await pool.lease();
      await eventually(async () => pool.stats().ready === 1, 'the refill made a replacement');
      expect(await lease.release()).toMatchObject({ outcome: 'recycled' });
      const ready = async (): Promise<string[]> => (await pooledOf(server, project.template())).filter((row) => row.state === 'ready').map((row) => row.name);
      await eventually(async () => (await ready()).length === 1, 'one ready database, the pool size');
      expect(pool.stats().ready).toBe(1);
      const next = await pool.lease();
      expect(await itemNames(server, next.database)).toEqual(['kettle', 'teapot']);
      await next.release();
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('read-only tests: once releases come back unchanged, a lease starts no clone the pool would drop when it returns; writing tests refill again', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 2 });
    try {
      // Counted once the fill is over (under load a clone of the fill may still be under way).
      await eventually(async () => pool.stats().creating === 0, 'the fill finished');
      const madeAtStart = pool.stats().created;
      for (let i = 0; i < 40; i++) {
        const lease = await pool.lease();
        await runOn(lease, ['SELECT * FROM item']);
        expect(await lease.release()).toMatchObject({ outcome: 'recycled' });
      }
      // The first lease has no history and refills; after that every lease comes back.
      expect(pool.stats().created - madeAtStart).toBeLessThanOrEqual(2);
      const beforeWrites = pool.stats().created;
      for (let i = 0; i < 3; i++) {
        const lease = await pool.lease();
        await runOn(lease, ["INSERT INTO item (name) VALUES ('mug')"]);
        expect(await lease.release()).toMatchObject({ outcome: 'dropped' });
      }
      await eventually(async () => pool.stats().ready === 2 && pool.stats().creating === 0, 'the pool refilled to its size after the writing tests');
      expect(pool.stats().created - beforeWrites).toBeGreaterThanOrEqual(3);
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('close() while refills are being made leaves at most size ready databases, none half-made', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 2 });
    // Two leases at once: two refills start; close() comes while they are being made.
    const leases = await Promise.all([pool.lease(), pool.lease()]);
    await pool.close();
    const left = await pooledOf(server, project.template());
    expect(left.filter((row) => row.state !== 'ready')).toEqual([]);
    expect(left.length).toBeLessThanOrEqual(2);
    expect(left.map((row) => row.name)).not.toEqual(expect.arrayContaining(leases.map((lease) => lease.database)));
    await createPool({ config: project.config(), size: 1 }).then((next) => next.close({ drain: true }));
  });

  it('lease() calls racing close() fail with POOL_CLOSED at once, not at their timeout', async () => {
    const project = poolProject();
    // A timeout no test waits out: a lease that waits for it fails the test by its own timeout.
    const pool = await createPool({ config: project.config(), size: 0, leaseTimeoutMs: 600_000 });
    const leases = Array.from({ length: 4 }, () => pool.lease());
    const settled = Promise.allSettled(leases);
    await pool.close();
    for (const outcome of await settled) {
      if (outcome.status === 'fulfilled') throw new Error(`a lease racing close() was handed out: ${outcome.value.database}`);
      expect(outcome.reason).toMatchObject({ code: 'POOL_CLOSED' });
    }
    expect((await pooledOf(server, project.template())).filter((row) => row.state !== 'ready')).toEqual([]);
  });

  it('close() drops leases still out; lease() after close() fails with POOL_CLOSED', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 1 });
    const lease = await pool.lease();
    // The refill the lease started finishes first: a clone still being made at close() is cancelled.
    await eventually(async () => pool.stats().ready === 1, 'the refill finished');
    await pool.close();
    expect(await query(server, 'SELECT 1 FROM pg_database WHERE datname = $1', [lease.database])).toEqual([]);
    await expect(pool.lease()).rejects.toMatchObject({ code: 'POOL_CLOSED' });
    // Released after close(): nothing left to do, and said so (it threw "Client was closed", then crashed the process).
    expect(await lease.release()).toMatchObject({ outcome: 'dropped', reason: expect.stringMatching(/pool was closed before this release/) });
    // The ready one stays for the next pool (or `dbfast seed`).
    expect((await pooledOf(server, project.template())).map((row) => row.state)).toEqual(['ready']);
    const next = await createPool({ config: project.config(), size: 1 });
    try {
      expect(next.stats().created).toBe(0);
      const again = await next.lease();
      expect(await itemNames(server, again.database)).toEqual(['kettle', 'teapot']);
      await again.release();
    } finally {
      await next.close({ drain: true });
    }
  });
});
