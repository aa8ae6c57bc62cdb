import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPool, type Logger } from '../../src/index.js';
import { parseJson, runCli } from '../support/cli.js';
import { startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { query, urlFor } from '../support/db.js';
import { makeProject, type TestProject } from '../support/project.js';
import { POOL_FILES, connectTo, leaseHolder } from './support.js';

/**
 * What a test (or a seed file) may do to the database dbfast gave it that PostgreSQL then refuses
 * to drop: mark it IS_TEMPLATE, leave a PREPARED TRANSACTION (which outlives every session), close
 * it to connections on top. Every drop of a database dbfast made clears that first. A server of
 * its own: prepared transactions need max_prepared_transactions > 0, slots wal_level = logical.
 */
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ name: 'hostile-drops', binDir: inject('pgBinDir'), scram: false, settings: ['max_prepared_transactions=10', 'wal_level=logical'] });
});

afterAll(() => {
  if (cluster) stopCluster(cluster);
});

type Hostile = (database: string) => Promise<void>;

async function prepareTransaction(database: string): Promise<void> {
  const client = await connectTo(urlFor(cluster.adminUrl, database));
  try {
    await client.query('BEGIN');
    await client.query("INSERT INTO item (name) VALUES ('prepared, never committed')");
    await client.query(`PREPARE TRANSACTION 'gid_${database}'`);
  } finally {
    await client.end();
  }
}

/** The slot first: creating one waits for every open transaction of the server, prepared ones included. */
const HOSTILE: Record<string, Hostile> = {
  'leaves a logical replication slot': (database) =>
    query(urlFor(cluster.adminUrl, database), `SELECT pg_create_logical_replication_slot('slot_' || md5($1), 'test_decoding')`, [database]).then(() => undefined),
  'marks it IS_TEMPLATE': (database) => query(cluster.adminUrl, `ALTER DATABASE "${database}" WITH IS_TEMPLATE true`).then(() => undefined),
  'leaves a prepared transaction in it': prepareTransaction,
  'leaves a prepared transaction and closes it to connections': async (database) => {
    await prepareTransaction(database);
    await query(cluster.adminUrl, `ALTER DATABASE "${database}" WITH ALLOW_CONNECTIONS false CONNECTION LIMIT 0`);
  },
  'marks it IS_TEMPLATE and leaves a prepared transaction': async (database) => {
    await prepareTransaction(database);
    await query(cluster.adminUrl, `ALTER DATABASE "${database}" WITH IS_TEMPLATE true`);
  },
};

async function exists(database: string): Promise<boolean> {
  return (await query(cluster.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [database])).length === 1;
}

async function preparedIn(database: string): Promise<string[]> {
  return (await query<{ gid: string }>(cluster.adminUrl, 'SELECT gid FROM pg_prepared_xacts WHERE database = $1', [database])).map((row) => row.gid);
}

function project(): TestProject {
  return makeProject({ files: POOL_FILES, url: cluster.adminUrl });
}

function cli(target: TestProject, args: string[]): ReturnType<typeof runCli> {
  return runCli(['--json', ...args], { cwd: target.dir, env: { DBFAST_CONFIG: undefined } });
}

interface Dropped {
  dropped: Array<{ name: string; kind: string; reason?: string }>;
}

describe.each(Object.entries(HOSTILE))('a test that %s', (_what, hostile) => {
  it('has its lease dropped on release; the next drop --stale and pool drain have nothing left to fail on', async () => {
    const target = project();
    const warnings: string[] = [];
    const logger: Logger = { info: () => undefined, debug: () => undefined, progress: () => undefined, warn: (message: string) => void warnings.push(message) };
    const pool = await createPool({ configPath: target.configPath, size: 1, logger });
    const lease = await pool.lease();
    await hostile(lease.database);
    expect((await lease.release()).outcome).toBe('dropped');
    await pool.close();
    expect(await exists(lease.database)).toBe(false);
    expect(await preparedIn(lease.database)).toEqual([]);
    expect(warnings.filter((warning) => warning.startsWith('could not drop'))).toEqual([]);
    const gid = `gid_${lease.database}`;
    if (_what.includes('prepared')) expect(warnings.join('\n')).toContain(`'${gid}'`);
    const stale = await cli(target, ['drop', '--stale']);
    expect(stale.exitCode, stale.stderr).toBe(0);
    const drained = await cli(target, ['pool', 'drain']);
    expect(drained.exitCode, drained.stderr).toBe(0);
  });

  it("whose process died holding the lease: pool status names what is in the way; drop --stale drops it, and says what it rolled back", async () => {
    const target = project();
    const { holder, leased } = await leaseHolder(target.configPath, { quiet: true });
    try {
      await hostile(leased);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    const status = await cli(target, ['pool', 'status']);
    expect(status.exitCode, status.stderr).toBe(0);
    const listed = parseJson<{ databases: Array<{ name: string; stale: boolean; reason: string | null }> }>(status).databases.find((database) => database.name === leased);
    expect(listed).toMatchObject({ stale: true });
    if (_what.includes('prepared')) expect(listed?.reason).toContain(`holds the prepared transaction 'gid_${leased}'`);
    if (_what.includes('IS_TEMPLATE')) expect(listed?.reason).toContain('marked IS_TEMPLATE');
    const result = await cli(target, ['drop', '--stale']);
    expect(result.exitCode, result.stderr).toBe(0);
    const entry = parseJson<Dropped>(result).dropped.find((dropped) => dropped.name === leased);
    expect(entry?.reason).toContain('leased by a process that is gone');
    if (_what.includes('prepared')) expect(entry?.reason).toContain(`rolled back the prepared transaction 'gid_${leased}'`);
    expect(await exists(leased)).toBe(false);
    expect(await preparedIn(leased)).toEqual([]);
  });
});

describe('pool drain', () => {
  it("drops a dead process's lease a test marked IS_TEMPLATE and left a prepared transaction in", async () => {
    const target = project();
    const { holder, leased } = await leaseHolder(target.configPath, { quiet: true });
    try {
      await prepareTransaction(leased);
      await query(cluster.adminUrl, `ALTER DATABASE "${leased}" WITH IS_TEMPLATE true`);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    const result = await cli(target, ['pool', 'drain']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await exists(leased)).toBe(false);
    expect(await preparedIn(leased)).toEqual([]);
  });
});

describe('dbfast drop NAME', () => {
  it('drops a clone the user marked IS_TEMPLATE and left a prepared transaction in, closed to connections', async () => {
    const target = project();
    const clone = `${target.templateName}_c_hostile`;
    const seeded = await cli(target, ['seed', '--output', clone]);
    expect(seeded.exitCode, seeded.stderr).toBe(0);
    await prepareTransaction(clone);
    await query(cluster.adminUrl, `ALTER DATABASE "${clone}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    const result = await cli(target, ['drop', clone]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson<Dropped>(result).dropped).toEqual([{ name: clone, kind: 'clone' }]);
    expect(await exists(clone)).toBe(false);
    expect(await preparedIn(clone)).toEqual([]);
  });

});
