import { execa, type ResultPromise } from 'execa';
import { DbfastError } from '../errors.js';
import { scrub } from '../pg/client.js';
import { childEnv, type DbTarget } from '../pg/target.js';
import type { PgTool } from '../pg/tools.js';

export interface PgChildOptions {
  target?: DbTarget;
  /** 'pipe' to feed the child, else ignored. */
  stdin: 'pipe' | 'ignore';
  /** 'stream' to read stdout as a stream, 'buffer' to collect it (small outputs), 'ignore'. */
  stdout: 'stream' | 'buffer' | 'ignore';
  signal?: AbortSignal | undefined;
}

export type PgChild = ResultPromise<{
  stdin: 'pipe' | 'ignore';
  stdout: 'pipe' | 'ignore';
  stderr: 'pipe';
  reject: false;
  buffer: { stdout: boolean; stderr: true };
}>;

/**
 * Spawns a PostgreSQL client tool with an argument array (never a shell). Connection settings
 * and secrets travel in its environment (childEnv: PGPASSWORD, a private service file for
 * sslpassword), never in argv; --no-password makes libpq fail instead of prompting.
 */
export function spawnPgTool(executable: string, args: string[], options: PgChildOptions): PgChild {
  const env: Record<string, string | undefined> = {
    PGAPPNAME: 'dbfast',
    PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT ?? '15',
    ...(options.target ? childEnv(options.target) : {}),
  };
  return execa(executable, args, {
    env,
    extendEnv: true,
    stdin: options.stdin,
    stdout: options.stdout === 'ignore' ? 'ignore' : 'pipe',
    stderr: 'pipe',
    buffer: { stdout: options.stdout === 'buffer', stderr: true },
    maxBuffer: { stdout: 256 * 1024 * 1024, stderr: 4 * 1024 * 1024 },
    reject: false,
    stripFinalNewline: true,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
    forceKillAfterDelay: 3000,
    // No signal-exit handlers: they re-raise SIGINT once the CLI's own (once) handler has
    // run, killing the process before its cleanups finish. Cleanups abort us instead.
    cleanup: false,
  }) as unknown as PgChild;
}

export interface PgChildResult {
  exitCode?: number | undefined;
  signal?: string | undefined;
  stderr?: unknown;
  failed: boolean;
  isCanceled?: boolean;
  message?: string;
}

/** The last lines of a tool's stderr, password scrubbed, for error messages. */
export function stderrTail(result: PgChildResult, target?: DbTarget, lines = 8): string {
  const text = typeof result.stderr === 'string' ? result.stderr : '';
  const tail = text.trim().split('\n').slice(-lines).join('\n');
  return target ? scrub(tail, target) : tail;
}

function hintFor(tool: PgTool, stderr: string): string {
  if (/password authentication failed|no password supplied/i.test(stderr)) {
    return 'The server refused the password: check password_env for this remote (or ~/.pgpass).';
  }
  if (/server version mismatch|aborting because of server version/i.test(stderr)) {
    return 'Install a newer PostgreSQL client and point [tools] pg_bin_dir at its bin folder.';
  }
  if (/unsupported version .* in file header/i.test(stderr)) {
    return 'The archive was written by a newer pg_dump: use a pg_restore of at least that version ([tools] pg_bin_dir).';
  }
  if (/permission denied/i.test(stderr)) {
    return `The database user lacks a privilege ${tool} needs (see the message above); run it as the owner of the objects, or grant the privilege.`;
  }
  if (/could not connect|connection to server/i.test(stderr)) {
    return 'Check that the server is reachable and the URL in the config is right (`dbfast remote test NAME`).';
  }
  return `Run again with --verbose; the lines above are what ${tool} said.`;
}

/** Turns a failed child into a DbfastError that says what the tool said, password scrubbed. */
export function pgToolError(tool: PgTool, what: string, result: PgChildResult, target?: DbTarget): DbfastError {
  if (result.isCanceled) return new DbfastError('INTERRUPTED', `${what} was interrupted`);
  const tail = stderrTail(result, target);
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode ?? '?'}`;
  const code = tool === 'pg_dump' ? 'PG_DUMP_FAILED' : tool === 'pg_restore' ? 'PG_RESTORE_FAILED' : 'PSQL_FAILED';
  return new DbfastError(code, `${what}: ${tool} ${how}${tail ? `:\n${tail}` : ''}`, { hint: hintFor(tool, tail) });
}
