import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { decodePoolMarker, type PoolMarker } from '../../src/pool/marker.js';
import { parsePoolName, type PoolState } from '../../src/pool/names.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { query, urlFor } from '../support/db.js';
import { makeProject, type TestProject } from '../support/project.js';

/** Schema with a serial column (a sequence) and a second sequence, plus seed rows. */
export const POOL_FILES = {
  '0_schema/010_item.sql': 'CREATE TABLE item (id serial PRIMARY KEY, name text NOT NULL);\nCREATE SEQUENCE ticket;\n',
  '1_seed/010_items.sql': "INSERT INTO item (name) VALUES ('kettle'), ('teapot');\n",
};

/** A project for pool tests; `pool` is TOML for its [pool] table (a high cap by default: other test files' pools share the server). */
export function poolProject(pool = 'max_clones = 200'): TestProject {
  const project = makeProject({ files: POOL_FILES, environments: `[environments.local]\n\n[pool]\n${pool}\n` });
  return project;
}

export interface PooledRow {
  name: string;
  oid: number;
  state: PoolState;
  marker: PoolMarker | undefined;
}

/** The pooled databases (any state) of a template on a server. */
export async function pooledOf(serverUrl: string, template: string): Promise<PooledRow[]> {
  const rows = await query<{ datname: string; oid: number; comment: string | null }>(
    serverUrl,
    "SELECT datname, oid::int AS oid, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
    [`${template}__dbfast_`],
  );
  return rows.flatMap((row) => {
    const parsed = parsePoolName(row.datname);
    return parsed && parsed.template === template ? [{ name: row.datname, oid: row.oid, state: parsed.state, marker: decodePoolMarker(row.comment) }] : [];
  });
}

export async function templateOid(serverUrl: string, template: string): Promise<number | undefined> {
  return (await query<{ oid: number }>(serverUrl, 'SELECT oid::int AS oid FROM pg_database WHERE datname = $1', [template]))[0]?.oid;
}

export async function itemNames(serverUrl: string, database: string): Promise<string[]> {
  return (await query<{ name: string }>(urlFor(serverUrl, database), 'SELECT name FROM item ORDER BY id')).map((row) => row.name);
}

/** Polls until `check` holds (or fails the test after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A connected client whose server-side termination does not crash the test process. */
export async function connectTo(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export const DIST_INDEX = pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'index.js')).href;

/**
 * Runs an ES module script in a real child node process with the built library at hand
 * (`api` is dist/index.js). Lines it prints are collected; `waitFor` resolves on a line.
 */
export function spawnScript(body: string, env: Record<string, string> = {}): { child: ChildProcess; lines: string[]; waitFor(line: string | RegExp, timeoutMs?: number): Promise<string>; exited: Promise<number | null> } {
  const source = `const api = await import(${JSON.stringify(DIST_INDEX)});\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  const listeners: Array<() => void> = [];
  let buffered = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor: (line, timeoutMs = 60_000) =>
      new Promise<string>((resolve, reject) => {
        const found = (): string | undefined => lines.find((entry) => (typeof line === 'string' ? entry === line : line.test(entry)));
        const timer = setTimeout(() => reject(new Error(`child never printed ${String(line)}; stdout: ${lines.join('\n')}\nstderr: ${stderr}`)), timeoutMs);
        const check = (): void => {
          const hit = found();
          if (hit !== undefined) {
            clearTimeout(timer);
            resolve(hit);
          }
        };
        listeners.push(check);
        void exited.then(() => {
          if (found() === undefined) {
            clearTimeout(timer);
            reject(new Error(`child exited without printing ${String(line)}; stdout: ${lines.join('\n')}\nstderr: ${stderr}`));
          }
        });
        check();
      }),
  };
}

/**
 * A real child process with a pool of `size` (default 2) that leases `leases` databases (writing
 * into each), waits until its pool is full again, then is killed with SIGKILL: what a crashed
 * test runner leaves. Resolves to the names of its leases.
 */
/**
 * A process of its own that leases one database from a pool of size 1 and holds it until it is
 * killed (the caller kills `holder.child`); `quiet` gives its pool the silent logger.
 */
export async function leaseHolder(configPath: string, options: { quiet?: boolean } = {}): Promise<{ holder: ReturnType<typeof spawnScript>; leased: string }> {
  const holder = spawnScript(`
    const pool = await api.createPool({ configPath: ${JSON.stringify(configPath)}, size: 1${options.quiet ? ', logger: api.silentLogger' : ''} });
    const lease = await pool.lease();
    console.log('leased ' + lease.database);
    setInterval(() => undefined, 1000);
  `);
  try {
    return { holder, leased: (await holder.waitFor(/^leased /)).slice('leased '.length) };
  } catch (error) {
    holder.child.kill('SIGKILL');
    throw error;
  }
}

export async function killedWithLeases(project: Pick<TestProject, 'configPath'>, leases: number, size = 2): Promise<string[]> {
  const child = spawnScript(`
    const pg = (await import('pg')).default;
    const pool = await api.createPool({ configPath: ${JSON.stringify(project.configPath)}, size: ${size} });
    const names = [];
    for (let i = 0; i < ${leases}; i++) {
      const lease = await pool.lease();
      const client = new pg.Client({ connectionString: lease.url });
      await client.connect();
      await client.query("INSERT INTO item (name) VALUES ('half-done work')");
      names.push(lease.database);
    }
    while (pool.stats().ready < ${size} || pool.stats().creating > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    console.log('leased ' + names.join(' '));
    setInterval(() => undefined, 1000);
  `);
  const leased = (await child.waitFor(/^leased /)).slice('leased '.length).split(' ');
  child.child.kill('SIGKILL');
  await child.exited;
  return leased;
}
