import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool, DbfastError } from '../../src/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { crashCluster, restartCluster, startAgain, startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { query } from '../support/db.js';
import { makeProject } from '../support/project.js';
import { POOL_FILES, killedWithLeases, leaseHolder, pooledOf } from './support.js';

/**
 * A server restart cuts every session, like a crash of every process using the pool at once. The
 * test servers run without fsync (as the managed one does by default), so a database made before
 * the restart may have lost files: never handed out, and dropped as garbage. A server of its own,
 * because restarting the shared one would cut every other test file's sessions.
 */
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ name: 'pool-restart', binDir: inject('pgBinDir'), scram: false });
});

afterAll(() => {
  if (cluster) stopCluster(cluster);
});

/**
 * The test servers also run with synchronous_commit off: an immediate stop loses the last
 * commits (a claim's rename, a marker). A checkpoint first makes the restart about lost locks
 * and files made without fsync, which is what these tests are about.
 */
async function durableRestart(): Promise<void> {
  await query(cluster.adminUrl, 'CHECKPOINT');
  await restartCluster(cluster);
}

interface Dropped {
  dropped: Array<{ name: string; kind: string; reason?: string }>;
}

describe('after the server restarted (no fsync)', () => {
  it('a lease whose process still runs survives the restart (its lock is gone, its lessee is not); once the process is gone it is dropped', async () => {
    const project = makeProject({ files: POOL_FILES, url: cluster.adminUrl });
    const { holder, leased } = await leaseHolder(project.configPath);
    try {
      await durableRestart();
      const result = await runCli(['--json', 'drop', '--stale'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(parseJson<Dropped>(result).dropped.map((entry) => entry.name)).not.toContain(leased);
      expect((await pooledOf(cluster.adminUrl, project.template())).find((row) => row.name === leased)).toMatchObject({ state: 'lease' });
      holder.child.kill('SIGKILL');
      await holder.exited;
      const after = await runCli(['--json', 'drop', '--stale'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } });
      expect(parseJson<Dropped>(after).dropped.find((entry) => entry.name === leased)).toMatchObject({ reason: 'leased by a process that is gone' });
    } finally {
      holder.child.kill('SIGKILL');
    }
  });

  it('after the restart a lease whose pid now belongs to another process (pid reuse) is reaped: the lessee is the process that started when the marker says', async () => {
    const project = makeProject({ files: POOL_FILES, url: cluster.adminUrl });
    const { holder, leased } = await leaseHolder(project.configPath);
    try {
      const row = (await pooledOf(cluster.adminUrl, project.template())).find((entry) => entry.name === leased);
      const marker = row?.marker as { leasedBy?: { pid: number; started?: string } } | undefined;
      expect(marker?.leasedBy).toMatchObject({ pid: holder.child.pid, started: expect.any(String) });
      // Stopped, it cannot reconnect and lock its lease again; its pid stays taken.
      holder.child.kill('SIGSTOP');
      await durableRestart();
      // The same pid, another process: what the marker would say had the test process died and its pid been reused.
      const reused = { ...marker, leasedBy: { ...marker?.leasedBy, started: '1' } };
      await query(cluster.adminUrl, `COMMENT ON DATABASE "${leased}" IS 'dbfast:pool:v1 ${JSON.stringify(reused).replace(/'/g, "''")}'`);
      const result = await runCli(['--json', 'drop', '--stale'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(parseJson<Dropped>(result).dropped.find((entry) => entry.name === leased)).toMatchObject({ reason: 'leased by a process that is gone' });
    } finally {
      holder.child.kill('SIGKILL');
    }
  });

  it('a pool in use reconnects after the restart: the next lease() is a complete database, leases from before release, their locks are taken again', async () => {
    const project = makeProject({ files: POOL_FILES, url: cluster.adminUrl });
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, progress: () => undefined, warn: (line: string) => void warnings.push(line) };
    const pool = await createPool({ configPath: project.configPath, size: 1, logger });
    try {
      const before = await pool.lease();
      await durableRestart();
      const after = await pool.lease();
      expect(after.database).not.toBe(before.database);
      expect((await query<{ name: string }>(after.url, 'SELECT name FROM item ORDER BY name')).map((row) => row.name)).toEqual(['kettle', 'teapot']);
      expect(warnings.join('\n')).toMatch(/lost its connection to the server .*reconnects/);
      // The lease from before the restart is this pool's again: locked by its new session.
      const locks = await query<{ count: string }>(cluster.adminUrl, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted");
      expect(Number(locks[0]?.count)).toBeGreaterThanOrEqual(2);
      expect((await after.release()).outcome).toBe('recycled');
      const released = await before.release();
      // Made before a restart without fsync: never back to the pool, whatever its counters say.
      expect(released).toMatchObject({ outcome: 'dropped', reason: expect.stringMatching(/made before the server restarted without fsync/) });
    } finally {
      await pool.close({ drain: true });
    }
    expect((await pooledOf(cluster.adminUrl, project.template())).filter((row) => row.state !== 'trash')).toEqual([]);
  });

  it('with fsync on, a lease changed before a crash restart is dropped on release: the crash reset its counters, so nothing proves it unchanged', async () => {
    const durable = ['fsync=on', 'synchronous_commit=on', 'full_page_writes=on'];
    await restartCluster(cluster, durable);
    const project = makeProject({ files: POOL_FILES, url: cluster.adminUrl });
    const pool = await createPool({ configPath: project.configPath, size: 1 });
    try {
      const lease = await pool.lease();
      await query(lease.url, "UPDATE item SET name = 'changed by the test'");
      await query(cluster.adminUrl, 'CHECKPOINT');
      await restartCluster(cluster, durable);
      const released = await lease.release();
      expect(released).toMatchObject({ outcome: 'dropped', reason: expect.stringMatching(/the server restarted since it was made/) });
      const next = await pool.lease();
      expect((await query<{ name: string }>(next.url, 'SELECT name FROM item ORDER BY name')).map((row) => row.name)).toEqual(['kettle', 'teapot']);
      await next.release();
    } finally {
      await pool.close({ drain: true });
      await restartCluster(cluster);
    }
  });

  it('while the server is down: release() resolves (dropped once the server is back) and nothing rejects unhandled; lease() fails with a hint; right after the restart lease() reconnects; one warning per loss', async () => {
    const project = makeProject({ files: POOL_FILES, url: cluster.adminUrl });
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, progress: () => undefined, warn: (line: string) => void warnings.push(line) };
    const pool = await createPool({ configPath: project.configPath, size: 1, logger, leaseTimeoutMs: 5000 });
    try {
      const out = await pool.lease();
      await crashCluster(cluster);
      const released = await out.release();
      expect(released).toMatchObject({ outcome: 'dropped', reason: expect.stringMatching(/connection to the server was lost.*dbfast drop --stale/) });
      const refused = await pool.lease().then(
        () => undefined,
        (error: unknown) => error as DbfastError,
      );
      expect(refused).toBeInstanceOf(DbfastError);
      expect(refused?.code).toBe('CONNECTION_FAILED');
      expect(refused?.hint).toBeTruthy();
      await startAgain(cluster);
      // At once, before any session has heard of the restart.
      const again = await pool.lease();
      expect((await query<{ name: string }>(again.url, 'SELECT name FROM item ORDER BY name')).map((row) => row.name)).toEqual(['kettle', 'teapot']);
      await again.release();
      expect(warnings.filter((line) => /lost its connection/.test(line))).toHaveLength(1);
      expect(warnings.filter((line) => /could not make a ready database/.test(line))).toEqual([]);
    } finally {
      await pool.close({ drain: true });
    }
    // What the release could not drop while the server was down, drop --stale does now.
    const result = await runCli(['--json', 'drop', '--stale'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await pooledOf(cluster.adminUrl, project.template())).filter((row) => row.state !== 'ready')).toEqual([]);
  });

  it("drop --stale drops a SIGKILLed process's leases and its ready databases of the current build; the next pool makes new ones", async () => {
    const project = makeProject({ files: POOL_FILES, url: cluster.adminUrl });
    const template = project.template();
    const leased = await killedWithLeases(project, 1);
    const before = await pooledOf(cluster.adminUrl, template);
    const ready = before.filter((row) => row.state === 'ready').map((row) => row.name);
    expect(ready.length).toBeGreaterThanOrEqual(2);
    await durableRestart();

    const status = parseJson<{ databases: Array<{ name: string; state: string; stale: boolean; reason: string | null }> }>(
      await runCli(['--json', 'pool', 'status'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } }),
    );
    for (const name of ready) {
      expect(status.databases.find((row) => row.name === name)).toMatchObject({ state: 'ready', stale: true, reason: 'made before the server restarted without fsync (its files may be incomplete)' });
    }
    const result = await runCli(['--json', 'drop', '--stale'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } });
    expect(result.exitCode, result.stderr).toBe(0);
    const dropped = parseJson<Dropped>(result).dropped;
    expect(dropped.map((entry) => entry.name)).toEqual(expect.arrayContaining([...leased, ...ready]));
    // Besides: a clone the killed pool had claimed as surplus (renamed a lease, queued for dropping)
    // is its lease too, and garbage like the others.
    for (const entry of dropped.filter((row) => ![...leased, ...ready].includes(row.name))) {
      expect(entry).toMatchObject({ kind: 'pool', reason: 'leased by a process that is gone' });
    }
    expect(dropped.find((entry) => entry.name === leased[0])).toMatchObject({ kind: 'pool', reason: 'leased by a process that is gone' });
    expect(await pooledOf(cluster.adminUrl, template)).toEqual([]);

    // The same state again, left for the next pool this time: it drops them and makes fresh ones.
    const leasedAgain = await killedWithLeases(project, 1);
    const readyRows = (await pooledOf(cluster.adminUrl, template)).filter((row) => row.state === 'ready');
    const readyAgain = readyRows.map((row) => row.name);
    await durableRestart();
    const pool = await createPool({ config: project.config(), size: 2 });
    try {
      const lease = await pool.lease();
      const [leasedRow] = await query<{ oid: number }>(cluster.adminUrl, 'SELECT oid::int AS oid FROM pg_database WHERE datname = $1', [lease.database]);
      expect(readyRows.map((row) => row.oid)).not.toContain(leasedRow?.oid);
      await lease.release();
      expect(pool.stats().created).toBeGreaterThanOrEqual(2);
    } finally {
      await pool.close();
    }
    const left = (await pooledOf(cluster.adminUrl, template)).map((row) => row.name);
    for (const name of [...leasedAgain, ...readyAgain]) expect(left).not.toContain(name);
  });
});
