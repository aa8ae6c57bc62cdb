import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { stopManagedServer } from '../../src/server/lifecycle.js';
import type { TestProject } from 'vitest/node';
import { startCluster, stopCluster, type Cluster } from './cluster.js';
import { findServerBinDir } from './pgbin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    localPgUrl: string;
    remotePgUrl: string;
    /** host:port of the remote for TCP (scram) connections. */
    remoteTcpHost: string;
    remoteTcpPort: number;
    pgBinDir: string;
  }
}

async function checkAnswers(label: string, url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`the ${label} test server at ${url} does not answer: ${(error as Error).message}`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

function tcpOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || 5432) };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const clusters: Cluster[] = [];
  let stopAll = async (): Promise<void> => {
    for (const cluster of clusters.splice(0)) {
      try {
        stopCluster(cluster);
      } catch (error) {
        console.error(`could not stop the ${cluster.name} test cluster: ${(error as Error).message}`);
      }
    }
  };
  process.once('exit', () => void stopAll());

  // No test may use or start the machine's own managed server (~/.local/share/dbfast/server,
  // /var/lib/dbfast/server for root): commands that find no server configured get one in a
  // folder of this run, stopped and removed at the end. Tests of the managed server use their own.
  if (!process.env.DBFAST_SERVER_DIR) {
    const managedRoot = mkdtempSync(path.join(os.tmpdir(), 'dbfast-test-managed-'));
    chmodSync(managedRoot, 0o755);
    process.env.DBFAST_SERVER_DIR = managedRoot;
    const stopManaged = async (): Promise<void> => {
      await stopManagedServer({ env: { ...process.env, DBFAST_SERVER_DIR: managedRoot } }).catch(() => undefined);
      rmSync(managedRoot, { recursive: true, force: true });
    };
    const stopClusters = stopAll;
    stopAll = async () => {
      await stopClusters();
      await stopManaged();
    };
  }

  const givenLocal = process.env.DBFAST_TEST_PG_URL;
  const givenRemote = process.env.DBFAST_TEST_REMOTE_PG_URL;
  let localUrl: string;
  let remoteUrl: string;
  let remoteTcp: { host: string; port: number };
  const binDir = (await findServerBinDir()) ?? '';
  if (givenLocal) {
    localUrl = givenLocal;
    remoteUrl = givenRemote ?? givenLocal;
    remoteTcp = tcpOf(remoteUrl);
  } else {
    if (!binDir) {
      throw new Error(
        'No PostgreSQL server binaries found (initdb, pg_ctl, postgres) via pg_config, /usr/lib/postgresql/*/bin or PATH.\n' +
          'Install them (Debian/Ubuntu: apt-get install -y postgresql postgresql-client), ' +
          'or point the tests at running servers with DBFAST_TEST_PG_URL and DBFAST_TEST_REMOTE_PG_URL.',
      );
    }
    try {
      const [local, remote] = await Promise.all([
        startCluster({ name: 'local', binDir, scram: false }),
        startCluster({ name: 'remote', binDir, scram: true }),
      ]);
      clusters.push(local, remote);
      localUrl = local.adminUrl;
      remoteUrl = remote.adminUrl;
      remoteTcp = { host: '127.0.0.1', port: remote.port };
    } catch (error) {
      await stopAll();
      throw error;
    }
  }
  await checkAnswers('local', localUrl);
  await checkAnswers('remote', remoteUrl);
  project.provide('localPgUrl', localUrl);
  project.provide('remotePgUrl', remoteUrl);
  project.provide('remoteTcpHost', remoteTcp.host);
  project.provide('remoteTcpPort', remoteTcp.port);
  project.provide('pgBinDir', binDir);
  return stopAll;
}
