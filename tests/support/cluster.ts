import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function chownTree(dir: string, ids: { uid: number; gid: number }): void {
  execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir]);
}

/** Runs a server tool, as the `postgres` OS user when we are root (the server refuses to run as root). */
function runTool(binDir: string, tool: string, args: string[]): void {
  const executable = path.join(binDir, tool);
  const [command, commandArgs] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', executable, ...args]] : [executable, args];
  const result = spawnSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  }
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
  /** Extra `-c name=value` server settings (e.g. ssl=on), added to the defaults. */
  settings?: string[];
  /** Replaces pg_hba.conf (e.g. hostssl lines only, for a server that refuses plain TCP). */
  hba?: string;
}

export async function startCluster(options: StartClusterOptions): Promise<Cluster> {
  const baseDir = mkdtempSync(path.join(os.tmpdir(), `dbfast-test-${options.name}-`));
  chmodSync(baseDir, 0o755);
  const dataDir = path.join(baseDir, 'data');
  const socketDir = path.join(baseDir, 'socket');
  mkdirSync(socketDir);
  const superuserPassword = `su-${Math.random().toString(36).slice(2)}`;
  const pwfile = path.join(baseDir, 'pwfile');
  writeFileSync(pwfile, `${superuserPassword}\n`, { mode: 0o600 });
  if (IS_ROOT) chownTree(baseDir, postgresIds());
  runTool(options.binDir, 'initdb', [
    '-D', dataDir, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--pwfile', pwfile,
    '--auth-local=trust', `--auth-host=${options.scram ? 'scram-sha-256' : 'trust'}`,
  ]);
  if (options.hba !== undefined) {
    const hbaFile = path.join(dataDir, 'pg_hba.conf');
    writeFileSync(hbaFile, options.hba, { mode: 0o600 });
    if (IS_ROOT) chownTree(hbaFile, postgresIds());
  }
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`, `-k ${socketDir}`, '-c listen_addresses=127.0.0.1',
    '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off',
    '-c max_connections=200', '-c password_encryption=scram-sha-256',
    ...(options.settings ?? []).map((setting) => `-c ${setting}`),
  ].join(' ');
  runTool(options.binDir, 'pg_ctl', ['-D', dataDir, '-l', path.join(baseDir, 'server.log'), '-o', serverOptions, '-w', '-t', '60', 'start']);
  const adminUrl = `postgresql://postgres@localhost:${port}/postgres?host=${encodeURIComponent(socketDir)}`;
  return { name: options.name, baseDir, dataDir, socketDir, port, binDir: options.binDir, adminUrl, superuserPassword };
}

export function stopCluster(cluster: Cluster): void {
  try {
    runTool(cluster.binDir, 'pg_ctl', ['-D', cluster.dataDir, '-m', 'immediate', '-w', 'stop']);
  } finally {
    rmSync(cluster.baseDir, { recursive: true, force: true });
  }
}
