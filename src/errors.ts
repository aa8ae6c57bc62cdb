/**
 * The one error type the library throws, and the one table of its codes. `code` is stable
 * (scripts match on it), `hint` says what to do next, and the code's class in `ERRORS` decides
 * the CLI's exit status: 1 failed, 2 usage or configuration, 3 a check found problems, 130
 * interrupted.
 */
export type ExitCode = 1 | 2 | 3 | 130;

/** How an error ends the CLI: `failed` 1, `usage` 2, `check` 3, `interrupted` 130. */
export type ExitClass = 'failed' | 'usage' | 'check' | 'interrupted';

const EXIT_CODES: Record<ExitClass, ExitCode> = { failed: 1, usage: 2, check: 3, interrupted: 130 };

interface ErrorSpec {
  exit: ExitClass;
  /** Shown when the throw site gives no hint of its own. */
  hint?: string;
}

/**
 * How to check a server that may be the local one or a remote is up and reachable, for hints
 * that cannot know which (a lost connection, a tool that could not connect). The local server is
 * no remote: where a failure is known to be on it, failure/operational.ts puts the local
 * server's own commands in its place (`forLocalServer`).
 */
export const SERVER_CHECK_STEP = '`dbfast server status` or `dbfast doctor` for the local server, `dbfast remote test NAME` for a remote';

/** Every code dbfast throws, with its exit class and default hint. */
export const ERRORS = {
  AGE_INVALID: { exit: 'usage' },
  ARCHIVE_UNREADABLE: { exit: 'failed' },
  BACKUP_BUSY: { exit: 'failed' },
  BACKUP_CHECK_FAILED: { exit: 'failed' },
  BACKUP_CORRUPT: { exit: 'check' },
  BACKUP_DIR_LOW_SPACE: { exit: 'check', hint: 'Free some space (dbfast backup prune), or point [backup] dir at a bigger disk.' },
  BACKUP_DIR_UNWRITABLE: { exit: 'check', hint: 'Give the user running dbfast write access to the backup folder, or point [backup] dir elsewhere.' },
  BACKUP_ID_INVALID: { exit: 'usage' },
  BACKUP_NOT_FOUND: { exit: 'usage' },
  BACKUP_OBJECT_MISSING: { exit: 'failed' },
  BACKUP_REQUIRED: { exit: 'usage' },
  BACKUP_STORAGE_FAILED: { exit: 'failed', hint: 'Check the bucket, the endpoint and the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE).' },
  BACKUP_TOO_OLD: { exit: 'check', hint: 'Run dbfast backup create --remote NAME, and schedule it.' },
  CLUSTER_SETUP_MISSING: { exit: 'usage', hint: 'Fix the path in [repository] cluster_setup (relative to the repository folder), or remove it.' },
  CONFIG_EDIT_FAILED: { exit: 'usage' },
  CONFIG_EDIT_INVALID: { exit: 'usage' },
  CONFIG_EXISTS: { exit: 'usage' },
  CONFIG_INVALID: { exit: 'usage' },
  CONFIG_NOT_FOUND: { exit: 'usage' },
  CONFIG_SYNTAX: { exit: 'usage' },
  CONFIG_UNREADABLE: { exit: 'usage' },
  CONFIRMATION_REQUIRED: { exit: 'usage' },
  CONNECTION_FAILED: { exit: 'failed' },
  CONNECTION_LOST: { exit: 'failed', hint: `The server restarted, shut down or the network dropped the connection. Check that it is up (${SERVER_CHECK_STEP}), then run the command again; what the interrupted run left behind is cleaned up by the next one.` },
  CONNECTION_SETTING_INVALID: { exit: 'usage' },
  CONNECTION_SETTING_UNSUPPORTED: { exit: 'usage' },
  CREATE_DATABASE_FAILED: { exit: 'failed' },
  DATABASE_EXISTS: { exit: 'usage' },
  DATABASE_NAME_INVALID: { exit: 'usage' },
  DATABASE_NOT_FOUND: { exit: 'usage' },
  DATABASE_OWNED_ELSEWHERE: { exit: 'usage' },
  DATABASE_PROTECTED: { exit: 'usage' },
  DATABASE_URL_INVALID: { exit: 'usage' },
  DESTRUCTIVE_NOT_ALLOWED: { exit: 'usage' },
  DISK_FULL: { exit: 'failed', hint: "Free space on that file system (`df -h`), then run the command again; nothing that looks finished was left behind." },
  DROP_DATABASE_FAILED: { exit: 'failed' },
  DUMP_FILE_UNWRITABLE: { exit: 'usage' },
  DUMP_WRITE_FAILED: { exit: 'failed' },
  ENVIRONMENT_MISMATCH: { exit: 'usage' },
  ENVIRONMENT_NAME_INVALID: { exit: 'usage' },
  ENVIRONMENT_REQUIRED: { exit: 'usage' },
  ENVIRONMENT_UNKNOWN: { exit: 'usage' },
  FILE_ACCESS_DENIED: { exit: 'failed', hint: "Check the owner and mode of the file or folder named above (`ls -ld`), or point dbfast at one it may write." },
  GROUP_FAILED: { exit: 'failed' },
  GROUP_FILES_MISSING: { exit: 'usage' },
  GROUP_UNKNOWN: { exit: 'usage' },
  HEALTH_CHECK_FAILED: { exit: 'failed' },
  HEALTH_CHECK_URL_INVALID: { exit: 'usage' },
  INTERNAL: { exit: 'failed', hint: "This is a bug in dbfast; run again with --verbose and report it with the output." },
  INTERRUPTED: { exit: 'interrupted', hint: "Run the command again; leftovers of the interrupted run are cleaned up by the next one." },
  LAYERS_INVALID: { exit: 'usage' },
  IO_ERROR: { exit: 'failed', hint: "The disk or file system reported an error: check it (dmesg, SMART) before trusting anything written to it." },
  LEFTOVER_DATABASE: { exit: 'check', hint: 'dbfast drop NAME (the next build of its template drops it too).' },
  LOCAL_NO_CREATEDB: { exit: 'check', hint: 'As a superuser: ALTER ROLE name CREATEDB;' },
  LOCK_TIMEOUT: { exit: 'failed' },
  MIGRATION_DRIFT: { exit: 'failed' },
  MIGRATION_FAILED: { exit: 'failed' },
  MIGRATION_NEEDS_NO_TRANSACTION: { exit: 'failed' },
  MIGRATION_NO_TRANSACTION: { exit: 'usage' },
  MIGRATION_TRANSACTION_CONTROL: { exit: 'failed' },
  MIGRATION_UNKNOWN: { exit: 'usage' },
  NAME_TOO_LONG: { exit: 'usage' },
  NOT_MADE_BY_DBFAST: { exit: 'usage' },
  NO_BACKUPS: { exit: 'usage' },
  NO_PREVIOUS: { exit: 'failed' },
  NO_SQL_FILES: { exit: 'usage' },
  PASSWORD_ENV_INVALID: { exit: 'usage' },
  PASSWORD_ENV_UNSET: { exit: 'usage' },
  PASSWORD_IN_CONFIG: { exit: 'usage' },
  PERMISSION_DENIED: { exit: 'failed', hint: "The database role lacks a privilege: the message names the object; have its owner or a superuser GRANT it." },
  PG_DUMP_FAILED: { exit: 'failed' },
  PG_RESTORE_FAILED: { exit: 'failed' },
  POOL_CLOSED: { exit: 'failed', hint: 'Lease from a pool that is open: close() it only after the last lease().' },
  POOL_TIMEOUT: { exit: 'failed', hint: '`dbfast pool status` shows what the server holds; `dbfast drop --stale` drops what crashed processes left.' },
  POOL_UNAVAILABLE: { exit: 'usage', hint: 'Use `dbfast seed` (a clone per call) on this server, or upgrade it to PostgreSQL 14 or later.' },
  POST_DEPLOY_FAILED: { exit: 'failed' },
  POST_HOOK_FAILED: { exit: 'failed' },
  POST_SWAP_CHECK_FAILED: { exit: 'failed' },
  PREFLIGHT_FAILED: { exit: 'failed' },
  PRE_HOOK_FAILED: { exit: 'failed' },
  PRODUCTION_ENVIRONMENT_CONFLICT: { exit: 'usage' },
  PRODUCTION_GUARD: { exit: 'usage' },
  PRODUCTION_NEEDS_BACKUP: { exit: 'usage' },
  PRUNE_CRITERIA: { exit: 'usage' },
  PSQL_FAILED: { exit: 'failed' },
  REMOTE_DATABASE_PROTECTED: { exit: 'usage' },
  REMOTE_EXISTS: { exit: 'usage' },
  REMOTE_NAME_INVALID: { exit: 'usage' },
  REMOTE_NOT_A_TABLE: { exit: 'usage' },
  REMOTE_PRIVILEGES: { exit: 'check' },
  REMOTE_UNKNOWN: { exit: 'usage' },
  REMOTE_URL_INVALID: { exit: 'usage' },
  REMOTE_URL_PASSWORD: { exit: 'usage' },
  REPOSITORY_LINK_LOOP: { exit: 'usage' },
  REPOSITORY_LINK_OUTSIDE: { exit: 'usage' },
  REMOTE_URL_SECRET: { exit: 'usage' },
  REPOSITORY_NOT_FOUND: { exit: 'usage' },
  REQUIRED_ENV_MISSING: { exit: 'usage' },
  RESTORE_CHECK_FAILED: { exit: 'failed' },
  RESTORE_FAILED: { exit: 'failed' },
  RESTORE_IMPOSSIBLE: { exit: 'failed' },
  RESTORE_OPTIONS: { exit: 'usage' },
  RESTORE_TEMP_SPACE: { exit: 'usage' },
  SERVER_BINARIES_BROKEN: { exit: 'failed' },
  SERVER_BINARIES_MISSING: { exit: 'usage' },
  SERVER_DATA_INCOMPLETE: { exit: 'usage' },
  SERVER_DIR_FOREIGN: { exit: 'usage' },
  SERVER_DIR_UNREACHABLE: { exit: 'usage' },
  SERVER_DIR_UNSAFE: { exit: 'usage' },
  SERVER_DIR_UNWRITABLE: { exit: 'usage' },
  SERVER_DISK_FULL: { exit: 'failed' },
  SERVER_FAULT: { exit: 'failed', hint: "The database server reported an internal or I/O fault: check its log, then run the command again." },
  SERVER_INIT_FAILED: { exit: 'failed' },
  SERVER_LOCK_TIMEOUT: { exit: 'failed' },
  SERVER_PORT_TAKEN: { exit: 'usage' },
  SERVER_READ_ONLY: { exit: 'failed', hint: "The server is a standby or read-only (default_transaction_read_only): point the URL at the primary." },
  SERVER_RESOURCES: { exit: 'failed', hint: "The server is out of connections, memory or another limit: close idle sessions or raise the limit (e.g. max_connections), then run the command again." },
  SERVER_RUNNING: { exit: 'usage' },
  SERVER_SHUT_DOWN: { exit: 'failed' },
  SERVER_START_FAILED: { exit: 'failed' },
  SERVER_STOP_FAILED: { exit: 'failed' },
  SIDE_NAME_TAKEN: { exit: 'usage' },
  SERVER_USER_MISSING: { exit: 'usage' },
  SESSIONS_BLOCKING: { exit: 'failed' },
  SETTING_NOT_APPLIED: { exit: 'failed' },
  SNAPSHOT_FAILED: { exit: 'failed' },
  SQL_COPY_SAME_LINE: { exit: 'failed' },
  SQL_COPY_UNTERMINATED: { exit: 'failed' },
  SQL_DATABASE_SWITCH: { exit: 'failed', hint: 'Remove the \\c line (and any CREATE/DROP DATABASE before it): dbfast makes the database and runs the files in it.' },
  SQL_ERROR: { exit: 'failed' },
  SQL_FAILED: { exit: 'failed' },
  SQL_FILE_CHANGED: { exit: 'failed', hint: 'Run again once nothing is writing to the SQL files.' },
  SQL_FILE_TOO_LARGE: { exit: 'failed' },
  SQL_FILE_UNREADABLE: { exit: 'failed' },
  SQL_INCLUDE_CYCLE: { exit: 'failed' },
  SQL_INCLUDE_DEPTH: { exit: 'failed' },
  SQL_INCLUDE_INVALID: { exit: 'failed' },
  SQL_INCLUDE_MISSING: { exit: 'failed' },
  SQL_INCLUDE_OUTSIDE: { exit: 'failed', hint: 'Move the included file into the repository: included files are part of the environment, hashed for change detection and checked by the production guard.' },
  SQL_META_COMMAND: { exit: 'failed' },
  SQL_OPEN_TRANSACTION: { exit: 'failed' },
  SQL_PSQL_ERROR: { exit: 'failed' },
  SQL_PSQL_FAILED: { exit: 'failed' },
  SQL_SERVER_WIDE: { exit: 'failed', hint: 'Move server-wide statements (roles, tablespaces, databases) into the file named by [repository] cluster_setup, which runs once per server.' },
  SQL_UNSUPPORTED: { exit: 'failed' },
  SSLMODE_INVALID: { exit: 'usage' },
  SSL_FILE_UNREADABLE: { exit: 'usage' },
  STALE_SPARE: { exit: 'check', hint: 'dbfast drop --stale (it drops the spares no build would adopt any more).' },
  STATEMENT_CANCELED: { exit: 'failed', hint: "Another session canceled it (pg_cancel_backend), or a statement_timeout in force for the SQL being run ended it (dbfast's own sessions run without one): raise or unset that timeout (SET in the file, or the database's or role's setting), then run the command again." },
  SSL_NOT_ENCRYPTED: { exit: 'check', hint: 'Add ?sslmode=require (or verify-full) to the URL once the server has TLS.' },
  STRAY_CLONE: { exit: 'check', hint: 'dbfast drop NAME if nothing uses it.' },
  SWAP_FAILED: { exit: 'failed' },
  SWAP_FROM_TARGET: { exit: 'failed' },
  SWAP_NO_SIDE: { exit: 'failed' },
  SYSTEM_RESOURCES: { exit: 'failed', hint: "This machine ran out of memory or file handles (ulimit -n): free some, then run the command again." },
  TEMPLATE_IN_USE: { exit: 'failed' },
  TEMPLATE_MISSING: { exit: 'failed' },
  TEMPLATE_NAME_INVALID: { exit: 'usage' },
  TEMPLATE_NAME_TAKEN: { exit: 'usage' },
  TEMPLATE_NAME_TOO_LONG: { exit: 'usage' },
  TEMPLATE_OWNED_ELSEWHERE: { exit: 'usage' },
  TEMPLATE_STALE: { exit: 'check', hint: 'dbfast build --env ENV' },
  TOOL_MISSING: { exit: 'usage' },
  TOOL_TOO_OLD: { exit: 'usage' },
  TOOL_VERSION: { exit: 'failed' },
  TRACKING_TABLE_UNAVAILABLE: { exit: 'failed' },
  TRANSACTION_CONFLICT: { exit: 'failed', hint: "Another session changed the same objects at the same time (deadlock or serialization failure): run the command again." },
  USAGE: { exit: 'usage', hint: "Run dbfast --help for usage." },
  VALIDATION_FAILED: { exit: 'failed' },
  WATCH_FAILED: { exit: 'failed' },
  WEBHOOK_COMMIT_INVALID: { exit: 'usage' },
  WEBHOOK_COMMIT_UNAVAILABLE: { exit: 'failed' },
  WEBHOOK_CONFIG_INVALID: { exit: 'usage' },
  WEBHOOK_GIT_FAILED: { exit: 'failed' },
  WEBHOOK_LISTEN_FAILED: { exit: 'usage' },
  WEBHOOK_NO_CONFIG: { exit: 'failed' },
  WEBHOOK_REPOSITORY_OUTSIDE: { exit: 'usage' },
} as const satisfies Record<string, ErrorSpec>;

/** A code of the `ERRORS` table. */
export type ErrorCode = keyof typeof ERRORS;

export interface DbfastErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** Extra machine-readable fields, under `details` in `--json` error output. */
  details?: Record<string, unknown> | undefined;
}

/** A `DbfastError` as `--json` prints it (under `error`). */
export interface DbfastErrorJson {
  code: ErrorCode;
  message: string;
  hint: string | null;
  exitCode: ExitCode;
  details: Record<string, unknown>;
}

export class DbfastError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: DbfastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const spec: ErrorSpec = ERRORS[code];
    this.name = 'DbfastError';
    this.code = code;
    this.hint = options.hint ?? spec.hint;
    this.exitCode = EXIT_CODES[spec.exit];
    this.details = options.details;
  }

  /** The `--json` shape. */
  toJSON(): DbfastErrorJson {
    return { code: this.code, message: this.message, hint: this.hint ?? null, exitCode: this.exitCode, details: this.details ?? {} };
  }
}

/** True for errors dbfast threw on purpose (as opposed to bugs and foreign errors). */
export function isDbfastError(error: unknown): error is DbfastError {
  return error instanceof DbfastError;
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
