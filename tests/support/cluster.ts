import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/logger.js';
import { initCluster, startPostgres, stopPostgres } from '../../src/server/postgres.js';
import { processAlive, runningPostmaster } from '../../src/server/postmaster.js';
import { serverRunAs } from '../../src/server/os-user.js';
import { settingsFor } from '../../src/server/settings.js';

/**
 * The tests' and the bench's throwaway clusters, made with the managed server's own code
 * (src/server/postgres.ts: initdb as the server's OS user when root, start detached with the
 * settings file, socket folder 0700), so every test run exercises it.
 */
export interface Cluster {
  name: string;
  baseDir: string;
  dataDir: string;
  socketDir: string;
  port: number;
  binDir: string;
  /** Superuser over the unix socket (trust). */
  adminUrl: string;
  superuserPassword: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartClusterOptions {
  name: string;
  binDir: string;
  /** Host connections need a scram password (the "remote"); local ones always trust. */
  scram: boolean;
  /** Extra `name=value` server settings (e.g. ssl=on), added to the defaults. */
  settings?: string[];
  /** Replaces pg_hba.conf (e.g. hostssl lines only, for a server that refuses plain TCP). */
  hba?: string;
}

export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  const baseDir = mkdtempSync(path.join(os.tmpdir(), `dbfast-test-${options.name}-`));
  chmodSync(baseDir, 0o755);
  const runAs = await serverRunAs(process.env, silentLogger);
  if (runAs) chownSync(baseDir, runAs.uid, runAs.gid);
  const spec = { binDir: options.binDir, dataDir: path.join(baseDir, 'data'), runAs };
  const socketDir = path.join(baseDir, 'socket');
  const superuserPassword = `su-${Math.random().toString(36).slice(2)}`;
  await initCluster(spec, { password: superuserPassword, authHost: options.scram ? 'scram-sha-256' : 'trust', noSync: true });
  if (options.hba !== undefined) {
    const hbaFile = path.join(spec.dataDir, 'pg_hba.conf');
    writeFileSync(hbaFile, options.hba, { mode: 0o600 });
    if (runAs) chownSync(hbaFile, runAs.uid, runAs.gid);
  }
  const port = await freePort();
  const cluster: Cluster = { name: options.name, baseDir, dataDir: spec.dataDir, socketDir, port, binDir: options.binDir, adminUrl: `postgresql://postgres@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`, superuserPassword };
  await startServer(cluster, options.settings ?? []);
  return cluster;
}

async function startServer(cluster: Cluster, settings: readonly string[]): Promise<void> {
  const extra = Object.fromEntries(settings.map((setting) => {
    const equals = setting.indexOf('=');
    return [setting.slice(0, equals), setting.slice(equals + 1)];
  }));
  const { port, socketDir } = cluster;
  await startPostgres({ binDir: cluster.binDir, dataDir: cluster.dataDir, runAs: await serverRunAs(process.env, silentLogger) }, {
    logFile: path.join(cluster.baseDir, 'server.log'),
    socketDir,
    settings: settingsFor({ port, socketDir, durable: false, extra: { max_connections: '200', ...extra } }),
    timeoutSeconds: 60,
  });
}

/** Stops a cluster the way a crash does (immediate mode: no shutdown checkpoint, every session cut), then starts it again. */
export async function restartCluster(cluster: Cluster, settings: readonly string[] = []): Promise<void> {
  await crashCluster(cluster);
  await startServer(cluster, settings);
}

/** Stops a cluster the way a crash does, and leaves it stopped (`startAgain` starts it). */
export async function crashCluster(cluster: Cluster): Promise<void> {
  await stopPostgres(cluster.dataDir, 'immediate');
}

/** Starts a cluster `crashCluster` stopped. */
export async function startAgain(cluster: Cluster, settings: readonly string[] = []): Promise<void> {
  await startServer(cluster, settings);
}

/**
 * Stops a cluster at once (pg_ctl's immediate mode: SIGQUIT to the postmaster) and removes its
 * folder. Synchronous on purpose: bench and test runners call it from `exit` handlers, where
 * nothing asynchronous runs.
 */
export function stopCluster(cluster: Cluster): void {
  try {
    const running = runningPostmaster(cluster.dataDir);
    if (running) {
      process.kill(running.pid, 'SIGQUIT');
      const deadline = Date.now() + 30_000;
      const pause = new Int32Array(new SharedArrayBuffer(4));
      while (processAlive(running.pid)) {
        if (Date.now() > deadline) throw new Error(`the ${cluster.name} cluster (pid ${running.pid}) did not stop within 30 s`);
        Atomics.wait(pause, 0, 0, 20);
      }
    }
  } finally {
    rmSync(cluster.baseDir, { recursive: true, force: true });
  }
}
