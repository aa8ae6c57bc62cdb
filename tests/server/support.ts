import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll } from 'vitest';
import { stopPostgres } from '../../src/server/postgres.js';
import { parseJson, runCli, type CliOptions, type CliResult } from '../support/cli.js';
import { writeTree } from '../support/files.js';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

const roots: string[] = [];
const ports = new Map<string, string>();

/**
 * A port for one test server, picked by the kernel (bind to port 0): unlike 25400 + the major,
 * which every managed server on the machine scans up from, no other test file, vitest run or
 * developer's test server is given it while it is held, so a server stopped and started again
 * by a test finds its port still free (the product moves from a taken one; a test that asserts
 * "the same port" must not race other test servers for it).
 */
function kernelPort(): string {
  const script = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});";
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
}

/**
 * A fresh folder for a managed server (DBFAST_SERVER_DIR), mode 0755 so that the server's user
 * can pass through when the tests run as root. After the file's tests every server in it is
 * stopped and the folder removed.
 */
export function serverDir(prefix = 'dbfast-srv-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  roots.push(dir);
  ports.set(dir, kernelPort());
  return dir;
}

/** Data directories under a server folder (one per major). */
export function dataDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((name) => /^\d+$/.test(name)).map((name) => path.join(root, name, 'data'));
}

export async function stopAllIn(root: string): Promise<void> {
  for (const dataDir of dataDirs(root)) await stopPostgres(dataDir, 'immediate').catch(() => undefined);
}

afterAll(async () => {
  for (const root of roots.splice(0)) {
    await stopAllIn(root);
    rmSync(root, { recursive: true, force: true });
  }
});

/** The environment of a machine where no local database is configured, with the managed server in `root`. */
export function managedEnv(root: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DBFAST_SERVER_DIR: root,
    DATABASE_URL: undefined,
    DBFAST_DATABASE_URL: undefined,
    PGHOST: undefined,
    PGPORT: undefined,
    PGUSER: undefined,
    PGDATABASE: undefined,
    PGPASSWORD: undefined,
    DBFAST_SERVER_BINARIES: undefined,
    DBFAST_SERVER_USER: undefined,
    DBFAST_SERVER_PORT: ports.get(root),
    ...extra,
  };
}

/** A project whose dbfast.toml names no server: two small environments' worth of SQL. */
export function writeManagedProject(dir: string, options: { templateName?: string; extraToml?: string; files?: Record<string, string> } = {}): string {
  writeTree(dir, {
    'dbfast.toml': `[database]\ntemplate_name = "${options.templateName ?? 'srv'}"\n${options.extraToml ?? ''}\n[repository]\npath = "db"\n`,
    'db/0_schema/001_tables.sql': 'CREATE SCHEMA app;\nCREATE TABLE app.item (id int PRIMARY KEY, name text NOT NULL);\n',
    'db/1_seed_common/001_items.sql': "INSERT INTO app.item VALUES (1, 'one'), (2, 'two');\n",
    ...options.files,
  });
  return dir;
}

export function cli(root: string, args: string[], options: CliOptions & { extraEnv?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  return runCli(args, { ...options, env: { ...managedEnv(root, options.extraEnv), ...options.env } });
}

/** Runs a CLI command that must succeed, and returns its --json result. */
export async function cliJson<T = Record<string, unknown>>(root: string, args: string[], options: CliOptions & { extraEnv?: Record<string, string | undefined> } = {}): Promise<T> {
  const result = await cli(root, ['--json', ...args], options);
  if (result.exitCode !== 0) throw new Error(`dbfast ${args.join(' ')} exited ${result.exitCode}:\n${result.stdout}\n${result.stderr}`);
  return parseJson<T>(result);
}

export interface PidFile {
  pid: number;
  port: number;
}

export function postmasterPid(dataDir: string): PidFile | undefined {
  const file = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The OS user a process runs as. */
export function processUser(pid: number): string {
  return execFileSync('ps', ['-o', 'user=', '-p', String(pid)], { encoding: 'utf8' }).trim();
}

export async function sql<R extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, password?: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, password });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

/** Names of the databases on a server (by its URL). */
export async function databaseNames(url: string): Promise<string[]> {
  return (await sql<{ datname: string }>(url, 'SELECT datname FROM pg_database ORDER BY datname')).map((row) => row.datname);
}
