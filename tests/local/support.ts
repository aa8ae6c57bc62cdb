import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { CLI } from '../support/cli.js';
import { local, query, urlFor } from '../support/db.js';

/** Polls `check` every 20 ms until true; fails after `timeoutMs` with `what`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function databaseExists(name: string): Promise<boolean> {
  return (await query(local.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;
}

/**
 * Holds a lock on `database` (the one COMMENT ON DATABASE takes, rewriting its own comment) in an
 * open transaction: CREATE DATABASE ... TEMPLATE it, and ALTER DATABASE ... RENAME of it, wait
 * until `release()`. That is how a test holds a real process at the real moment.
 */
export async function holdDatabaseLock(database: string): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: local.adminUrl, application_name: 'test lock holder' });
  await client.connect();
  await client.query('BEGIN');
  const current = await client.query<{ comment: string | null }>("SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1", [database]);
  const comment = current.rows[0]?.comment ?? null;
  await client.query(`COMMENT ON DATABASE "${database.replaceAll('"', '""')}" IS ${comment === null ? 'NULL' : `'${comment.replaceAll("'", "''")}'`}`);
  return {
    release: async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

export interface BlockedStatement {
  pid: number;
  query: string;
}

/** The backend running a statement that starts with `prefix` (and contains `contains`), once it waits for a lock. */
export async function waitForBlocked(prefix: string, contains = ''): Promise<BlockedStatement> {
  let found: BlockedStatement | undefined;
  await waitUntil(`a statement starting with ${prefix} to wait for a lock`, async () => {
    const rows = await query<{ pid: number; query: string }>(
      local.adminUrl,
      "SELECT pid, query FROM pg_stat_activity WHERE starts_with(query, $1) AND strpos(query, $2) > 0 AND wait_event_type = 'Lock'",
      [prefix, contains],
    );
    found = rows[0];
    return found !== undefined;
  });
  return found as BlockedStatement;
}

export async function backendGone(pid: number): Promise<boolean> {
  return (await query(local.adminUrl, 'SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).length === 0;
}

export interface RunningCli {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Starts the real CLI (built dist/) in its own process group. */
export function startCli(args: string[], cwd: string, env: Record<string, string | undefined> = {}): RunningCli {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DBFAST_CONFIG: undefined, DATABASE_URL: undefined, DBFAST_DATABASE_URL: undefined, ...env };
  for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr };
}

/** pg_dump of a database (schema and data, no owners), without the random \restrict key of newer pg_dump: equal text, equal database. */
export function dumpOf(database: string): string {
  const text = execFileSync('pg_dump', ['--no-owner', '--dbname', urlFor(local.adminUrl, database)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return text
    .split('\n')
    .filter((line) => !line.startsWith('\\restrict') && !line.startsWith('\\unrestrict'))
    .join('\n');
}

/** The databases of a project whose names say they are unfinished or replaced (none may stay behind). */
export function unfinished(names: readonly string[]): string[] {
  return names.filter((name) => /__dbfast_(old|build|clone|dump)_[0-9a-f]{8}$/.test(name));
}
