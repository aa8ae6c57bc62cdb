import os from 'node:os';
import { execa, type ResultPromise } from 'execa';
import { DbfastError, SERVER_CHECK_STEP } from '../errors.js';
import { scrub, sessionOptions } from '../pg/client.js';
import { childEnv, type DbTarget } from '../pg/target.js';
import type { PgTool } from '../pg/tools.js';
import { explainPermission } from '../failure/permission.js';
import { classifyToolStderr, echoedStatement, summarizeToolStderr } from './tool-output.js';

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
  // pg_dump and pg_restore are dbfast's own sessions: a database's statement_timeout or
  // default_transaction_read_only (pg_restore sets only the first) must not stop them.
  if (options.target) env.PGOPTIONS = sessionOptions(options.target.settings.options, false);
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

/** The lines of a tool's stderr that say what went wrong (summarized), password scrubbed, for error messages. */
export function stderrTail(result: PgChildResult, target?: DbTarget, lines = 12): string {
  const text = typeof result.stderr === 'string' ? result.stderr : '';
  const summary = summarizeToolStderr(text, lines).join('\n');
  return target ? scrub(summary, target) : summary;
}

/** The role a child tool connects as: the URL's user, else PGUSER, else the OS user (libpq's order). */
function targetUser(target: DbTarget | undefined): string | undefined {
  if (!target) return undefined;
  try {
    const url = new URL(target.url);
    return decodeURIComponent(url.username) || url.searchParams.get('user') || process.env.PGUSER || os.userInfo().username;
  } catch {
    return undefined;
  }
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
  if (/could not connect|connection to server/i.test(stderr)) {
    return `Check that the server is reachable and the URL in the config is right (${SERVER_CHECK_STEP}).`;
  }
  return `The lines above are what ${tool} said; run again with --verbose for the command dbfast ran.`;
}

/**
 * Turns a failed child into a DbfastError that shows what the tool said (its error lines, not
 * the tail of an echoed statement), password scrubbed. Failures dbfast knows get their own
 * codes: a missing privilege (naming the object and what to grant), a lost connection, a full
 * disk, a lock timeout; anything else is the tool's code.
 */
export function pgToolError(tool: PgTool, what: string, result: PgChildResult, target?: DbTarget): DbfastError {
  if (result.isCanceled) return new DbfastError('INTERRUPTED', `${what} was interrupted`);
  const text = target ? scrub(typeof result.stderr === 'string' ? result.stderr : '', target) : typeof result.stderr === 'string' ? result.stderr : '';
  const tail = stderrTail(result, target);
  const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode ?? '?'}`;
  const message = `${what}: ${tool} ${how}${tail ? `:\n${tail}` : ''}`;
  const details = { tool, exitCode: result.exitCode ?? null, signal: result.signal ?? null };
  const firstError = text.split('\n').find((line) => /error:/.test(line)) ?? '';
  if (/connection to server .* failed/.test(firstError)) return new DbfastError('CONNECTION_FAILED', message, { hint: hintFor(tool, text), details });
  switch (classifyToolStderr(text)) {
    case 'permission': {
      const problem = explainPermission(text, { user: targetUser(target), statement: echoedStatement(text) });
      return new DbfastError('PERMISSION_DENIED', message, {
        hint: problem?.hint ?? `The database role lacks a privilege ${tool} needs (named above): have the object's owner or a superuser grant it.`,
        details: { ...details, ...(problem ? { object: problem.object, privilege: problem.privilege } : {}) },
      });
    }
    case 'connection-lost':
      return new DbfastError('CONNECTION_LOST', message, { details });
    case 'disk-full':
      return new DbfastError('DISK_FULL', message, { hint: 'The database server (or the disk the tool writes to) ran out of space: free some, then run the command again.', details });
    case 'lock-timeout':
      return new DbfastError('LOCK_TIMEOUT', message, { hint: 'Another session holds a lock on a table the tool needs: wait for it to finish, or raise --lock-timeout.', details });
    case 'canceled':
      return new DbfastError('STATEMENT_CANCELED', message, { details });
    default: {
      const code = tool === 'pg_dump' ? 'PG_DUMP_FAILED' : tool === 'pg_restore' ? 'PG_RESTORE_FAILED' : 'PSQL_FAILED';
      return new DbfastError(code, message, { hint: hintFor(tool, text), details });
    }
  }
}
