import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli.js';
import { query, remote } from './db.js';
import type { Project } from './backup.js';

/** A dbfast process the test can watch and send signals to, at the moment it chooses. */
export interface RunningCli {
  child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the real CLI in the project's folder (its own process group, like a job in a shell). */
export function startCli(project: Project, args: string[], extraEnv: Record<string, string | undefined> = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: project.dir,
    env: { ...process.env, ...project.env, NO_COLOR: '1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

/** Polls `check` until it holds; fails with `what` (and the process's stderr) when it takes too long. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, options: { timeoutMs?: number; running?: RunningCli } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (await check()) return;
    if (options.running && options.running.child.exitCode !== null) {
      throw new Error(`dbfast exited (${options.running.child.exitCode}) before ${what}:\n${options.running.stderr()}\n${options.running.stdout()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}${options.running ? `:\n${options.running.stderr()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function remoteDatabaseExists(name: string): Promise<boolean> {
  return (await query(remote.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length > 0;
}

/** True while some session waits for a lock in a statement that renames a database. */
export async function renameWaitsForLock(database: string): Promise<boolean> {
  const rows = await query(
    remote.adminUrl,
    `SELECT 1 FROM pg_stat_activity
      WHERE wait_event_type = 'Lock' AND query ILIKE 'ALTER DATABASE%RENAME%' AND position($1 in query) > 0`,
    [database],
  );
  return rows.length > 0;
}
