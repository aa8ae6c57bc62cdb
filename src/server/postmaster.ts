import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * What a data directory's `postmaster.pid` says (PostgreSQL 10+ layout: pid, data directory,
 * start time, port, first socket directory, listen address, shared memory key, status). Light on
 * purpose: the hot path of every command on the managed server reads it.
 */
export interface PostmasterInfo {
  pid: number;
  dataDir: string;
  /** Seconds since the epoch. */
  startedAt: number;
  port: number;
  socketDir: string;
  /** `ready`, `starting`, `stopping`, or '' for servers that do not say. */
  status: string;
}

/** The data directory's lock file, which a running postmaster keeps. */
export function postmasterPidFile(dataDir: string): string {
  return path.join(dataDir, 'postmaster.pid');
}

/** The pid file's contents, or undefined when there is none (or it is unreadable). */
export function readPostmasterPid(dataDir: string): PostmasterInfo | undefined {
  let text: string;
  try {
    text = readFileSync(postmasterPidFile(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return {
    pid,
    dataDir: lines[1] ?? '',
    startedAt: Number(lines[2]) || 0,
    port: Number(lines[3]) || 0,
    socketDir: lines[4] ?? '',
    status: (lines[7] ?? '').trim(),
  };
}

/** Whether a process with this pid exists (whoever owns it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When the process started, as the kernel counts it (Linux: field 22 of /proc/PID/stat, clock
 * ticks since boot), or undefined where that cannot be read (other systems, a process gone). A
 * pid and its start time name one process: a pid alone may since belong to another.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the process `pid` that started at `started` (processStartTime) still runs. Without
 * `started`, or where start times cannot be read, whether any process has that pid.
 */
export function processRunning(pid: number, started?: string): boolean {
  if (!processAlive(pid)) return false;
  if (started === undefined) return true;
  const now = processStartTime(pid);
  return now === undefined || now === started;
}

/** The process's command line, or undefined when it cannot be read. */
function commandLine(pid: number): string | undefined {
  const proc = `/proc/${pid}/cmdline`;
  if (existsSync('/proc/self/cmdline')) {
    try {
      return readFileSync(proc, 'utf8').split('\0').join(' ');
    } catch {
      return undefined;
    }
  }
  try {
    return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The postmaster of `dataDir` when one runs. A pid file whose process is gone, or whose pid now
 * belongs to another program (after a restart of the machine), is stale: undefined.
 */
export function runningPostmaster(dataDir: string): PostmasterInfo | undefined {
  const info = readPostmasterPid(dataDir);
  if (!info || !processAlive(info.pid)) return undefined;
  const command = commandLine(info.pid);
  // pg_ctl starts `postgres -D <dataDir>`: a process that is not that is someone else's.
  if (command !== undefined && !(command.includes('postgres') && command.includes(path.resolve(dataDir)))) return undefined;
  return info;
}
