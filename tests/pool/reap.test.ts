import { describe, expect, it } from 'vitest';
import { createPool, lease } from '../../src/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { local, query } from '../support/db.js';
import type { TestProject } from '../support/project.js';
import { connectTo, eventually, killedWithLeases, poolProject, pooledOf, templateOid } from './support.js';

const server = local.adminUrl;

async function isGone(project: TestProject, names: readonly string[]): Promise<boolean> {
  const left = (await pooledOf(server, project.template())).map((row) => row.name);
  return names.every((name) => !left.includes(name));
}

describe('reaping what crashed processes left', () => {
  it("the next pool drops a SIGKILLed process's leases and reuses its ready databases", async () => {
    const project = poolProject();
    const leased = await killedWithLeases(project, 2);
    expect(leased).toHaveLength(2);
    const before = await pooledOf(server, project.template());
    expect(before.filter((row) => row.state === 'lease').map((row) => row.name).sort()).toEqual([...leased].sort());
    // At least its size: a lease() that waited may have had one more made for it (the cap bounds that).
    const readyBefore = before.filter((row) => row.state === 'ready');
    expect(readyBefore.length).toBeGreaterThanOrEqual(2);
    // Once the killed process's session is gone, status calls its leases stale.
    await eventually(async () => {
      const status = parseJson<{ databases: Array<{ name: string; state: string; stale: boolean; reason: string | null }> }>(
        await runCli(['--json', 'pool', 'status'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } }),
      );
      return status.databases.filter((row) => row.state === 'leased').every((row) => row.stale && row.reason === 'leased by a process that is gone');
    }, 'status shows the dead leases as stale');
    const pool = await createPool({ config: project.config(), size: 2 });
    try {
      await eventually(() => isGone(project, leased), 'the next pool drops the dead leases');
      // The complete, unchanged ready ones were not wasted.
      expect(pool.stats().created).toBe(0);
      const lease = await pool.lease();
      expect(readyBefore.map((row) => row.oid)).toContain((await pooledOf(server, project.template())).find((row) => row.name === lease.database)?.oid);
      await lease.release();
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('dbfast drop --stale drops dead leases and half-made databases, never a live lease or one being made', async () => {
    const project = poolProject();
    // A live lease, taken first. A one-off lease() leaves garbage to long-lived pools (a createPool()
    // here would reap what the killed process left as soon as it heard of it, and this test is about drop --stale).
    const live = await lease({ config: project.config() });
    const [dead] = await killedWithLeases(project, 1);
    const oid = await templateOid(server, project.template());
    // What a process killed between CREATE DATABASE and its marker leaves, and a database whose maker is still at work.
    const halfMade = `${project.template()}__dbfast_ready_deadbeef`;
    const beingMade = `${project.template()}__dbfast_ready_cafebabe`;
    await query(server, `CREATE DATABASE "${halfMade}" TEMPLATE template0`);
    const maker = await connectTo(server);
    await maker.query(`SET application_name = 'dbfast creating cafebabe ${oid}'`);
    await maker.query(`CREATE DATABASE "${beingMade}" TEMPLATE template0`);
    try {
      let dropped: Array<{ name: string; kind: string; reason: string }> = [];
      await eventually(async () => {
        const result = await runCli(['--json', 'drop', '--stale'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } });
        expect(result.exitCode, result.stderr).toBe(0);
        dropped.push(...parseJson<{ dropped: typeof dropped }>(result).dropped);
        return dropped.some((entry) => entry.name === dead);
      }, 'drop --stale drops the dead lease');
      dropped = dropped.sort((a, b) => a.name.localeCompare(b.name));
      expect(dropped.map((entry) => entry.name)).toEqual(expect.arrayContaining([dead, halfMade]));
      // Besides: a ready database the killed pool had claimed as surplus (renamed a lease) and was
      // still dropping when it was killed is its lease too, and garbage like the others.
      for (const entry of dropped.filter((row) => row.name !== dead && row.name !== halfMade)) {
        expect(entry).toMatchObject({ kind: 'pool', reason: 'leased by a process that is gone' });
      }
      expect(dropped.find((entry) => entry.name === dead)).toMatchObject({ kind: 'pool', reason: 'leased by a process that is gone' });
      expect(dropped.find((entry) => entry.name === halfMade)).toMatchObject({ kind: 'pool', reason: 'left incomplete by a process killed while making it' });
      const left = (await pooledOf(server, project.template())).map((row) => row.name);
      expect(left).toContain(live.database);
      expect(left).toContain(beingMade);
    } finally {
      await maker.end();
      await live.release();
    }
    // Its maker gone (and no marker), the last one is an orphan too: the pool's own pass or drop --stale drops it.
    expect((await runCli(['drop', '--stale'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } })).exitCode).toBe(0);
    expect((await pooledOf(server, project.template())).map((row) => row.name)).not.toContain(beingMade);
  });
});
