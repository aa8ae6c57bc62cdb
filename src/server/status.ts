import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { withClient } from '../pg/client.js';
import { recordedMajors } from './lifecycle.js';
import { majorPaths, serverRoot, type ServerRoot } from './paths.js';
import { runningPostmaster } from './postmaster.js';
import { managedServer, readRecord, readState, serverTarget, socketUrl, tcpUrl, type ManagedServer } from './record.js';

/** A database dbfast made on the managed server (its comment carries dbfast's marker). */
export interface ServerDatabase {
  name: string;
  /** `template`, `clone`, or `build` (a side database of a build in progress or interrupted). */
  kind: string;
  sizeBytes: number;
}

/** Whether the pg_dump on PATH can dump the managed server (deploys need it). */
export interface PgDumpCheck {
  path: string;
  version: string;
  /** pg_dump dumps servers of its own major or older: a deploy needs this to dump the templates. */
  canDump: boolean;
  problem: string | null;
}

/** What `dbfast server status` reports. */
export interface ServerStatus {
  root: string;
  rootSource: ServerRoot['source'];
  /** Whether a managed server was ever set up under the root. */
  exists: boolean;
  running: boolean;
  server: (ManagedServer & { url: string; tcpUrl: string }) | null;
  pid: number | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  /** Size of the data directory on disk. */
  sizeBytes: number | null;
  databases: ServerDatabase[];
  pgDump: PgDumpCheck | { path: null; version: null; canDump: false; problem: string } | null;
  /** Servers of other PostgreSQL majors under the same root. */
  others: Array<{ major: number; port: number; running: boolean; dataDir: string }>;
}

/**
 * Bytes `dir` takes on disk, as `du -sB1` counts them: allocated blocks (a sparse file counts
 * what it holds, not its length), each file once however many hard links it has (pass the same
 * `seen` to count several folders without counting a shared file twice), folders included.
 */
export async function diskUsage(dir: string, seen: Set<string> = new Set()): Promise<number> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info) return 0;
  const key = `${info.dev}:${info.ino}`;
  if (seen.has(key)) return 0;
  seen.add(key);
  let total = info.blocks * 512;
  if (!info.isDirectory()) return total;
  for (const entry of await readdir(dir).catch(() => [] as string[])) total += await diskUsage(path.join(dir, entry), seen);
  return total;
}

async function dbfastDatabases(server: ManagedServer): Promise<ServerDatabase[]> {
  return withClient(serverTarget(server), async (client) => {
    const { rows } = await client.query<{ name: string; comment: string; size: string }>(
      `SELECT datname AS name, shobj_description(oid, 'pg_database') AS comment, pg_database_size(oid)::text AS size
         FROM pg_database WHERE starts_with(coalesce(shobj_description(oid, 'pg_database'), ''), 'dbfast:') ORDER BY datname`,
    );
    return rows.map((row) => ({ name: row.name, kind: /^dbfast:(\w+):/.exec(row.comment)?.[1] ?? 'unknown', sizeBytes: Number(row.size) }));
  }, { applicationName: 'dbfast server status' });
}

async function checkPgDump(major: number): Promise<ServerStatus['pgDump']> {
  const { toolInfo, dumpCompatibilityProblem } = await import('../pg/tools.js');
  try {
    const info = await toolInfo('pg_dump');
    const problem = dumpCompatibilityProblem(info, major * 10000) ?? null;
    return { path: info.path, version: info.version, canDump: problem === null, problem };
  } catch {
    return { path: null, version: null, canDump: false, problem: `no pg_dump on PATH: seeding works, but deploys need pg_dump ${major} or newer (apt-get install postgresql-client-${major})` };
  }
}

/** What `dbfast server status` shows. Reads only: it never starts a server. */
export async function serverStatus(options: { env?: NodeJS.ProcessEnv } = {}): Promise<ServerStatus> {
  const env = options.env ?? process.env;
  const root = serverRoot(env);
  const state = readState(root.dir);
  const base: ServerStatus = {
    root: root.dir, rootSource: root.source, exists: false, running: false, server: null, pid: null, startedAt: null,
    uptimeSeconds: null, sizeBytes: null, databases: [], pgDump: null, others: [],
  };
  const majors = await recordedMajors(root.dir);
  const record = state ? readRecord(root.dir, state.major) : undefined;
  for (const major of majors) {
    if (major === state?.major) continue;
    const paths = majorPaths(root.dir, major);
    const running = runningPostmaster(paths.dataDir);
    base.others.push({ major, port: running?.port ?? readRecord(root.dir, major)?.port ?? 0, running: running !== undefined, dataDir: paths.dataDir });
  }
  if (!state || !record) return base;
  const server = managedServer(root.dir, record);
  const running = runningPostmaster(server.dataDir);
  const [sizeBytes, pgDump, databases] = await Promise.all([
    diskUsage(server.dataDir),
    checkPgDump(server.major),
    running ? dbfastDatabases(server) : Promise.resolve([]),
  ]);
  return {
    ...base,
    exists: true,
    running: running !== undefined,
    server: { ...server, url: socketUrl(server), tcpUrl: tcpUrl(server) },
    pid: running?.pid ?? null,
    startedAt: running ? new Date(running.startedAt * 1000).toISOString() : null,
    uptimeSeconds: running ? Math.max(0, Math.round(Date.now() / 1000 - running.startedAt)) : null,
    sizeBytes,
    databases,
    pgDump,
  };
}
