import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../src/index.js';
import { CLI, runCli } from '../support/cli.js';
import { local, query } from '../support/db.js';
import { eventually, itemNames, poolProject, pooledOf, templateOid } from './support.js';

const server = local.adminUrl;

async function markerOid(template: string, database: string): Promise<number | undefined> {
  return (await pooledOf(server, template)).find((row) => row.name === database)?.marker?.templateOid;
}

describe('createPool: the template changes', () => {
  it('a lease right after a file changed waits for the rebuild; clones of the old build are never handed out', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 2 });
    try {
      const before = await templateOid(server, project.template());
      const first = await pool.lease();
      expect(await itemNames(server, first.database)).toEqual(['kettle', 'teapot']);
      await first.release();
      const oldReady = (await pooledOf(server, project.template())).filter((row) => row.state === 'ready').map((row) => row.oid);
      expect(oldReady.length).toBeGreaterThan(0);
      project.write('1_seed/020_more.sql', "INSERT INTO item (name) VALUES ('mug');\n");
      const second = await pool.lease();
      const after = await templateOid(server, project.template());
      expect(after).not.toBe(before);
      expect(await itemNames(server, second.database)).toEqual(['kettle', 'teapot', 'mug']);
      expect(await markerOid(project.template(), second.database)).toBe(after);
      expect(second.template.builtAt).not.toBe(first.template.builtAt);
      await second.release();
      // The old build's ready databases are dropped, not kept around.
      await eventually(async () => !(await pooledOf(server, project.template())).some((row) => oldReady.includes(row.oid)), 'the old ready databases are dropped');
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('a lease while another process rebuilds the template gets the new build', async () => {
    const project = poolProject();
    // No watcher: only the server can tell this pool that another process is rebuilding.
    const pool = await createPool({ config: project.config(), size: 2, watch: false });
    try {
      project.write('1_seed/020_slow.sql', "SELECT pg_sleep(2);\nINSERT INTO item (name) VALUES ('from the rebuild');\n");
      const child = spawn(process.execPath, [CLI, 'build'], { cwd: project.dir, env: { ...process.env, DBFAST_CONFIG: undefined }, stdio: 'ignore' });
      let exitedAt: number | undefined;
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => ((exitedAt = Date.now()), resolve(code))));
      await eventually(
        async () => (await query(server, "SELECT 1 FROM pg_stat_activity WHERE starts_with(datname, $1) AND query LIKE '%pg_sleep(2)%'", [project.template()])).length > 0,
        'the other process is building',
      );
      const leasedAt = Date.now();
      const lease = await pool.lease();
      expect(exitedAt === undefined || exitedAt > leasedAt, 'lease() was called while the build ran').toBe(true);
      expect(await exited).toBe(0);
      expect(await itemNames(server, lease.database)).toEqual(['kettle', 'teapot', 'from the rebuild']);
      expect(await markerOid(project.template(), lease.database)).toBe(await templateOid(server, project.template()));
      await lease.release();
    } finally {
      await pool.close({ drain: true });
    }
  });

  it('after another process rebuilt the template (same files), only clones of the new build are handed out', async () => {
    const project = poolProject();
    const pool = await createPool({ config: project.config(), size: 3, watch: false });
    try {
      const old = (await pooledOf(server, project.template())).map((row) => row.oid);
      expect(old).toHaveLength(3);
      const rebuilt = await runCli(['build', '--force'], { cwd: project.dir, env: { DBFAST_CONFIG: undefined } });
      expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
      const current = await templateOid(server, project.template());
      const leases = await Promise.all([pool.lease(), pool.lease()]);
      for (const lease of leases) expect(await markerOid(project.template(), lease.database)).toBe(current);
      await Promise.all(leases.map((lease) => lease.release()));
      await eventually(async () => !(await pooledOf(server, project.template())).some((row) => old.includes(row.oid)), 'the old build is dropped');
    } finally {
      await pool.close({ drain: true });
    }
  });
});
