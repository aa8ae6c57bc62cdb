import { randomBytes } from 'node:crypto';
import { startCluster, stopCluster, type Cluster } from '../tests/support/cluster.js';
import { findServerBinDir } from '../tests/support/pgbin.js';
import { quoteIdent, sql } from './lib.js';

/**
 * The bench's own throwaway servers: a "local" one (templates and seeds, trust on the socket)
 * and a "remote" one (deploy target: scram over TCP, with a CREATEDB role that has a password).
 * Unlike the test clusters they keep PostgreSQL's durable defaults (fsync, synchronous_commit,
 * full_page_writes on), because clone and restore times depend on them and users' servers have
 * them; `--fsync-off` measures the way CI containers often run instead.
 */
export interface BenchClusters {
  binDir: string;
  local: Cluster;
  remote: Cluster;
  /** The deploy role on the remote: CREATEDB, LOGIN, a password; not a superuser. */
  role: { name: string; password: string };
  /** URL of a database on the remote as the deploy role over TCP (no password in it). */
  remoteUrl(database: string): string;
  serverVersion: string;
  fsync: boolean;
}

const started: Cluster[] = [];

/** Stops every cluster this process started; safe to call twice (signal handler, then finally). */
export function stopBenchClusters(): void {
  for (const cluster of started.splice(0)) {
    try {
      stopCluster(cluster);
    } catch (error) {
      console.error(`could not stop the bench's ${cluster.name} cluster: ${(error as Error).message}`);
    }
  }
}

const DURABLE = ['fsync=on', 'synchronous_commit=on', 'full_page_writes=on'];

/** One more cluster (e.g. with the other fsync setting), stopped with the others or by `stopExtraCluster`. */
export async function startExtraCluster(name: string, binDir: string, fsync: boolean): Promise<Cluster> {
  const cluster = await startCluster({ name, binDir, scram: false, settings: fsync ? DURABLE : [] });
  started.push(cluster);
  return cluster;
}

export function stopExtraCluster(cluster: Cluster): void {
  const index = started.indexOf(cluster);
  if (index >= 0) started.splice(index, 1);
  stopCluster(cluster);
}

export async function startBenchClusters(options: { fsync: boolean; log: (line: string) => void }): Promise<BenchClusters> {
  const binDir = await findServerBinDir();
  if (!binDir) {
    throw new Error(
      'No PostgreSQL server binaries found (initdb, pg_ctl, postgres) via pg_config, /usr/lib/postgresql/*/bin or PATH.\n' +
        'Install them (Debian/Ubuntu: apt-get install -y postgresql postgresql-client).',
    );
  }
  const durability = options.fsync ? DURABLE : [];
  options.log(`starting throwaway clusters with ${binDir} (fsync ${options.fsync ? 'on' : 'off'})`);
  const results = await Promise.allSettled([
    startCluster({ name: 'bench-local', binDir, scram: false, settings: durability }),
    startCluster({ name: 'bench-remote', binDir, scram: true, settings: durability }),
  ]);
  for (const result of results) if (result.status === 'fulfilled') started.push(result.value);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) {
    stopBenchClusters();
    throw failed.reason;
  }
  const [local, remote] = started as [Cluster, Cluster];
  const role = { name: 'bench_deployer', password: `pw-${randomBytes(12).toString('hex')}` };
  // The password is a literal in DDL on a throwaway server reached over its own socket; it never leaves this process.
  await sql(remote.adminUrl, `CREATE ROLE ${quoteIdent(role.name)} LOGIN CREATEDB PASSWORD '${role.password}'`);
  const version = (await sql(local.adminUrl, 'SHOW server_version')).rows[0] as { server_version: string };
  return {
    binDir,
    local,
    remote,
    role,
    remoteUrl: (database) => `postgresql://${role.name}@127.0.0.1:${remote.port}/${encodeURIComponent(database)}`,
    serverVersion: version.server_version,
    fsync: options.fsync,
  };
}
