import { copyFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPool, lease } from '../../src/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { local, query } from '../support/db.js';
import { connectTo, eventually, killedWithLeases, poolProject, pooledOf } from './support.js';

const server = local.adminUrl;
const noConfigEnv = { DBFAST_CONFIG: undefined };

interface Dropped {
  dropped: Array<{ name: string; kind: string; reason?: string }>;
}

/**
 * Two projects on one server that both chose the same template_name, one after the other:
 * project A's pool left databases (a SIGKILLed process's lease and ready ones, a changed lease
 * handed over as trash) and A dropped its template; project B then built its own template under
 * that name. Every pooled database records its project in its marker, so neither project's
 * clean-up touches the other's, though the names say the same template.
 */
describe("pooled databases are reaped by their project, never by another's with the same template name", () => {
  it("B's drop --stale, pool drain, pool status and pool leave A's databases alone; A's drop --stale drops them", async () => {
    const a = poolProject();
    const b = poolProject();
    // B says the same template_name as A (its own folder, so its own project id).
    copyFileSync(a.configPath, b.configPath);
    const template = a.template();
    const [deadLease] = await killedWithLeases(a, 1);
    const trashed = await lease({ config: a.config() });
    const client = await connectTo(trashed.url);
    await client.query("INSERT INTO item (name) VALUES ('changed')");
    await client.end();
    // A one-off lease hands a changed database over as trash for a long-lived pool to drop.
    expect(await trashed.release()).toMatchObject({ outcome: 'dropped' });
    // What a process killed between CREATE DATABASE and its marker leaves, cloned from A's template.
    const halfMadeOfA = `${template}__dbfast_ready_deadbeef`;
    await query(server, `CREATE DATABASE "${halfMadeOfA}" TEMPLATE "${template}"`);
    const ofA = (await pooledOf(server, template)).map((row) => row.name);
    expect(ofA).toContain(deadLease);
    expect(ofA.filter((name) => name.includes('__dbfast_trash_'))).toHaveLength(1);
    // The half-made one, and any ready ones the killed process made (the one-off lease may have taken the last).
    expect(ofA).toContain(halfMadeOfA);

    // A's template goes without its pool (`dbfast drop` would take A's ready databases with it): dropped by hand.
    await query(server, `ALTER DATABASE "${template}" IS_TEMPLATE false`);
    await query(server, `DROP DATABASE "${template}"`);
    const built = await runCli(['build'], { cwd: b.dir, env: noConfigEnv });
    expect(built.exitCode, built.stderr).toBe(0);
    // B's own half-made leftover, cloned from B's template.
    const halfMadeOfB = `${template}__dbfast_ready_feedf00d`;
    await query(server, `CREATE DATABASE "${halfMadeOfB}" TEMPLATE "${template}"`);

    const status = parseJson<{ databases: Array<{ name: string }> }>(await runCli(['--json', 'pool', 'status'], { cwd: b.dir, env: noConfigEnv }));
    expect(status.databases.map((row) => row.name)).toEqual([halfMadeOfB]);
    const staleB = await runCli(['--json', 'drop', '--stale'], { cwd: b.dir, env: noConfigEnv });
    expect(staleB.exitCode, staleB.stderr).toBe(0);
    expect(parseJson<Dropped>(staleB).dropped.map((entry) => entry.name)).toEqual([halfMadeOfB]);
    const drainB = await runCli(['--json', 'pool', 'drain'], { cwd: b.dir, env: noConfigEnv });
    expect(drainB.exitCode, drainB.stderr).toBe(0);
    expect(parseJson<Dropped>(drainB).dropped).toEqual([]);
    // B's long-lived pool reaps as it starts and on close: still nothing of A's.
    const poolB = await createPool({ config: b.config(), size: 1 });
    const leasedB = await poolB.lease();
    await leasedB.release();
    await poolB.close({ drain: true });
    const left = (await pooledOf(server, template)).map((row) => row.name);
    for (const name of ofA) expect(left).toContain(name);

    // A's own drop --stale finds them by the owner in their markers (their template is B's now, so they are outdated).
    const droppedByA: Dropped['dropped'] = [];
    await eventually(async () => {
      const staleA = await runCli(['--json', 'drop', '--stale'], { cwd: a.dir, env: noConfigEnv });
      expect(staleA.exitCode, staleA.stderr).toBe(0);
      droppedByA.push(...parseJson<Dropped>(staleA).dropped);
      return droppedByA.some((entry) => entry.name === deadLease);
    }, "A's drop --stale drops the dead lease once its session is gone");
    expect(droppedByA.map((entry) => entry.name).sort()).toEqual(ofA.filter((name) => name !== halfMadeOfA).sort());
    expect(droppedByA.find((entry) => entry.name === deadLease)).toMatchObject({ kind: 'pool', reason: 'leased by a process that is gone' });
    // The unmarked one was cloned from a template since replaced: nothing says whose it was, so nobody's clean-up drops it.
    expect((await pooledOf(server, template)).map((row) => row.name)).toEqual([halfMadeOfA]);
    await query(server, `DROP DATABASE "${halfMadeOfA}"`);
  });
});
