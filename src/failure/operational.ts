import os from 'node:os';
import path from 'node:path';
import { DbfastError, errorMessage, isDbfastError, SERVER_CHECK_STEP, type ErrorCode } from '../errors.js';
import { explainPermission } from './permission.js';

/** What the code that failed was doing, for messages that say where: all optional. */
export interface FailureContext {
  /** The database role of the failing session (GRANT hints name it). */
  user?: string | undefined;
  /** The database the session was connected to. */
  database?: string | undefined;
  /** The SQL statement that failed (picks the privilege to grant, gives qualified names). */
  statement?: string | undefined;
  /** The file or folder being read or written. */
  path?: string | undefined;
  /** What dbfast was doing, e.g. "writing the backup metadata". */
  doing?: string | undefined;
  /**
   * 'local': the failing code used only the local server (managed or your own), so hints name
   * its commands, not `dbfast remote test` (see `forLocalServer`). Unset: either may have failed.
   */
  server?: 'local' | undefined;
}

/** Where to look for a database that went away, on either server (the local one has no `remote test`). */
const NAMES_STEP = '`dbfast list` for the local server, `dbfast remote test NAME` for a remote';

/** The steps above as they read when the failure is known to be on the local server. */
const LOCAL_STEPS: ReadonlyArray<readonly [string, string]> = [
  [SERVER_CHECK_STEP, '`dbfast server status` for the managed local server, `dbfast doctor` for one of your own'],
  [NAMES_STEP, '`dbfast list` shows the databases dbfast made on the local server'],
];

/**
 * The error with the local server's next steps in its hint in place of the steps that name both
 * servers; the same error when its hint names neither.
 */
function forLocalServer(error: DbfastError): DbfastError {
  const hint = error.hint;
  if (hint === undefined) return error;
  const local = LOCAL_STEPS.reduce((text, [either, only]) => text.replaceAll(either, only), hint);
  if (local === hint) return error;
  const refined = new DbfastError(error.code, error.message, { hint: local, cause: error.cause, details: error.details });
  if (error.stack) refined.stack = error.stack;
  return refined;
}

const CONTEXT = Symbol.for('dbfast.failureContext');

/** Attaches what the failing code knew to an error on its way up (the first context wins). */
export function withFailureContext<E>(error: E, context: FailureContext): E {
  if (error !== null && typeof error === 'object' && !(CONTEXT in error)) {
    Object.defineProperty(error, CONTEXT, { value: context, enumerable: false });
  }
  return error;
}

function contextOf(error: unknown): FailureContext {
  return error !== null && typeof error === 'object' && CONTEXT in error ? ((error as Record<symbol, FailureContext>)[CONTEXT] ?? {}) : {};
}

interface ErrorFields {
  code?: string;
  syscall?: string;
  path?: string;
  detail?: string;
  hint?: string;
  severity?: string;
}

const CONNECTION_LOST_TEXT = /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|server closed the connection unexpectedly|terminating connection due to|could not receive data from server|SSL SYSCALL error|no connection to the server/i;
const NETWORK_ERRNO = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ECONNABORTED']);

function where(context: FailureContext): string {
  return [context.doing ? ` while ${context.doing}` : '', context.database ? ` (database "${context.database}")` : ''].join('');
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'the user running dbfast';
  }
}

/** A server error (SQLSTATE) that is about the environment, not about dbfast's own SQL. */
function fromSqlState(state: string, message: string, fields: ErrorFields, context: FailureContext): DbfastError | undefined {
  const said = [message, fields.detail ? `DETAIL: ${fields.detail}` : '', fields.hint ? `HINT: ${fields.hint}` : ''].filter(Boolean).join('\n');
  const make = (code: ErrorCode, text: string, hint?: string): DbfastError =>
    new DbfastError(code, `${text}${where(context)}: ${said}`, { hint, details: { sqlstate: state } });
  if (state === '42501') {
    const problem = explainPermission(`${message}\n${fields.detail ?? ''}`, context);
    return new DbfastError('PERMISSION_DENIED', `permission denied${where(context)}: ${said}`, {
      hint: problem?.hint,
      details: { sqlstate: state, ...(problem ? { object: problem.object, privilege: problem.privilege } : {}) },
    });
  }
  if (state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03') return make('CONNECTION_LOST', 'lost the connection to the server');
  const gone = `Someone dropped or renamed it meanwhile: check the names on the server (${NAMES_STEP}), then run the command again.`;
  if (state === '57P04') return make('DATABASE_NOT_FOUND', 'the database was dropped while dbfast worked in it', gone);
  if (state === '3D000') return make('DATABASE_NOT_FOUND', 'the database does not exist', gone);
  if (state === '53100') return make('DISK_FULL', 'the database server ran out of disk space', 'Free space on the database server (its data directory, WAL or temporary tablespace), then run the command again.');
  if (state.startsWith('53')) return make('SERVER_RESOURCES', 'the database server ran out of a resource');
  if (state === '55P03') return make('LOCK_TIMEOUT', 'a lock could not be obtained in time', 'Another session holds a lock on what dbfast needs; see who with pg_stat_activity / pg_locks, or raise lock_timeout / --lock-timeout.');
  if (state === '57014') return make('STATEMENT_CANCELED', 'the server canceled a statement');
  if (state === '25006') return make('SERVER_READ_ONLY', 'the server accepts no writes');
  if (state === '40001' || state === '40P01') return make('TRANSACTION_CONFLICT', 'a concurrent transaction got in the way');
  if (state.startsWith('58') || state === 'XX001' || state === 'XX002') return make('SERVER_FAULT', 'the database server reported a fault');
  return undefined;
}

/** A Node.js system error (errno code) about files, processes or the network. */
function fromErrno(code: string, error: Error & ErrorFields, context: FailureContext): DbfastError | undefined {
  const file = error.path ?? context.path;
  const about = file ? ` ${file}` : '';
  const doing = context.doing ? ` while ${context.doing}` : '';
  const folder = file ? path.dirname(file) : undefined;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new DbfastError('DISK_FULL', `no space left on the device${doing}${about ? ` (${about.trim()})` : ''}: ${error.message}`, {
      hint: folder ? `Free space on the file system holding ${folder} (\`df -h ${folder}\`), or point dbfast elsewhere, then run the command again.` : undefined,
      cause: error,
      details: { errno: code, ...(file ? { path: file } : {}) },
    });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new DbfastError('FILE_ACCESS_DENIED', `permission denied${doing}${about ? ` on${about}` : ''}: ${error.message}`, {
      hint: folder
        ? code === 'EROFS'
          ? `${folder} is on a read-only file system: point dbfast at a writable folder.`
          : `Let ${osUser()} (who runs dbfast) read and write ${folder}: check \`ls -ld ${folder}\` and its owner.`
        : undefined,
      cause: error,
      details: { errno: code, ...(file ? { path: file } : {}) },
    });
  }
  if (code === 'EIO') return new DbfastError('IO_ERROR', `input/output error${doing}${about}: ${error.message}`, { cause: error, details: { errno: code } });
  if (code === 'EMFILE' || code === 'ENFILE' || code === 'ENOMEM') {
    return new DbfastError('SYSTEM_RESOURCES', `this machine ran out of a resource${doing}: ${error.message}`, { cause: error, details: { errno: code } });
  }
  if (NETWORK_ERRNO.has(code) && error.syscall !== 'open') {
    return new DbfastError('CONNECTION_LOST', `lost the connection to the server${doing}: ${error.message}`, { cause: error, details: { errno: code } });
  }
  return undefined;
}

/**
 * Turns an operational failure (lost connection, full disk, missing privilege, file system
 * permission, exhausted resources, ...) into a coded DbfastError that names what failed and
 * says what to do; undefined for anything else (a bug is a bug). DbfastErrors pass through.
 */
export function operationalError(error: unknown, context: FailureContext = {}): DbfastError | undefined {
  const mapped = mapOperational(error, context);
  return mapped && (context.server ?? contextOf(error).server) === 'local' ? forLocalServer(mapped) : mapped;
}

function mapOperational(error: unknown, context: FailureContext): DbfastError | undefined {
  if (isDbfastError(error)) return error;
  if (!(error instanceof Error)) return undefined;
  const fields = error as Error & ErrorFields;
  const merged = { ...contextOf(error), ...context };
  const code = fields.code;
  let mapped: DbfastError | undefined;
  // SQLSTATEs are five characters; errno codes start with E and are longer.
  if (code && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('E')) mapped = fromSqlState(code, error.message, fields, merged);
  else if (code && code.startsWith('E')) mapped = fromErrno(code, fields, merged);
  if (!mapped && CONNECTION_LOST_TEXT.test(error.message)) {
    mapped = new DbfastError('CONNECTION_LOST', `lost the connection to the server${where(merged)}: ${error.message}`);
  }
  if (mapped && mapped.cause === undefined) Object.defineProperty(mapped, 'cause', { value: error, enumerable: false, configurable: true, writable: true });
  return mapped;
}

/** Any thrown value as a DbfastError: operational failures with their own codes, anything else INTERNAL. */
export function toDbfastError(error: unknown, context: FailureContext = {}): DbfastError {
  return (
    operationalError(error, context) ??
    new DbfastError('INTERNAL', errorMessage(error), { cause: error })
  );
}

/**
 * Runs `work`, rethrowing operational failures as coded DbfastErrors (other errors unchanged):
 * where the library's public functions return, so none reaches a caller as a bare pg or Node error.
 */
export async function mappingFailures<T>(work: () => Promise<T>, context: FailureContext = {}): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw operationalError(error, context) ?? error;
  }
}
