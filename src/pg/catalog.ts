import type pg from 'pg';
import { interrupted, registerCleanup } from '../cleanup.js';
import { DbfastError, errorMessage } from '../errors.js';
import { dropMadeDatabase } from './drop.js';
import { SETTINGS_OF_DATABASE_SQL, settingsFromEntries, type DatabaseSetting } from './db-properties.js';
import { quoteIdent, quoteLiteral } from './quote.js';

/** One row of pg_database with dbfast's comment, as read in a single query. */
export interface DatabaseInfo {
  name: string;
  comment: string | null;
  isTemplate: boolean;
  allowConnections: boolean;
  /** Only when asked for (`details.size`). */
  sizeBytes: number | null;
  /** Sessions connected to it; only when asked for (`details.sessions`). */
  sessions: number | null;
  /** Its per-database settings (`ALTER DATABASE ... SET`, `ALTER ROLE ... IN DATABASE ... SET`). */
  settings: DatabaseSetting[];
}

/** The server's version and the named databases that exist. */
export interface CatalogSnapshot {
  serverVersion: number;
  databases: Map<string, DatabaseInfo>;
}

interface Row {
  server_version: string;
  datname: string | null;
  comment: string | null;
  datistemplate: boolean | null;
  datallowconn: boolean | null;
  size: string | null;
  sessions: string | null;
  settings: Array<{ role: string | null; entry: string }> | null;
}

/** Which database's size and session count to read along. */
export interface ReadDetails {
  /** Database whose size to read: pg_database_size walks its files, so only one pays. */
  size?: string | undefined;
  /** Database whose sessions to count. */
  sessions?: string | undefined;
}

/** The named databases and the server version in one round trip (the seed path's only read). */
export async function readDatabases(client: pg.Client, names: readonly string[], details: ReadDetails = {}): Promise<CatalogSnapshot> {
  const result = await client.query<Row>(
    `SELECT current_setting('server_version_num') AS server_version, d.datname,
            shobj_description(d.oid, 'pg_database') AS comment, d.datistemplate, d.datallowconn,
            CASE WHEN d.datname = $2 THEN pg_database_size(d.oid) END AS size,
            CASE WHEN d.datname = $3 THEN pg_stat_get_db_numbackends(d.oid) END AS sessions,
            ${SETTINGS_OF_DATABASE_SQL} AS settings
       FROM (SELECT 1) AS one
       LEFT JOIN pg_database AS d ON d.datname = ANY($1::text[])`,
    [names, details.size ?? null, details.sessions ?? null],
  );
  const databases = new Map<string, DatabaseInfo>();
  for (const row of result.rows) {
    if (row.datname === null) continue;
    databases.set(row.datname, {
      name: row.datname,
      comment: row.comment,
      isTemplate: row.datistemplate === true,
      allowConnections: row.datallowconn === true,
      sizeBytes: row.size === null ? null : Number(row.size),
      sessions: row.sessions === null ? null : Number(row.sessions),
      settings: settingsFromEntries(row.settings ?? []),
    });
  }
  return { serverVersion: Number(result.rows[0]?.server_version), databases };
}

/** Whether a database of that name exists on the server. */
export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  return ((await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0;
}

/** Another session on a database, for messages. */
export interface Session {
  pid: number;
  user: string | null;
  application: string | null;
  client: string | null;
  backendType: string | null;
  state: string | null;
}

/**
 * Sessions that belong to someone: every client backend runs as a role. Autovacuum workers run
 * as none (`usesysid` is null), and a role without pg_read_all_stats cannot tell them by
 * `backend_type`, which it sees as null; the server ends them itself before DROP, RENAME or
 * CREATE ... TEMPLATE, so they are nobody to end or to report.
 */
const SESSIONS_ON = `datname = $1 AND pid <> pg_backend_pid() AND usesysid IS NOT NULL`;

/** Who is connected to a database, for messages that name the sessions in the way. */
export async function sessionsOn(client: pg.Client, database: string): Promise<Session[]> {
  const result = await client.query<{ pid: number; usename: string | null; application_name: string | null; client: string | null; backend_type: string | null; state: string | null }>(
    `SELECT pid, usename, application_name, coalesce(client_addr::text, CASE WHEN client_port = -1 THEN 'local socket' END) AS client,
            backend_type, state
       FROM pg_stat_activity WHERE ${SESSIONS_ON} ORDER BY pid`,
    [database],
  );
  return result.rows.map((row) => ({
    pid: row.pid,
    user: row.usename,
    application: row.application_name,
    client: row.client,
    backendType: row.backend_type,
    state: row.state,
  }));
}

/** `pid 123 (user app, application "psql", client 10.0.0.5)`. */
export function describeSession(session: Session): string {
  return `pid ${session.pid} (user ${session.user ?? '?'}, application "${session.application ?? ''}", client ${session.client ?? '?'})`;
}

/**
 * Terminates the sessions on `database` (only those of `pids`, when given). Throws
 * SESSIONS_BLOCKING naming every session the current role may not end; returns how many ended.
 */
export async function terminateSessions(client: pg.Client, database: string, pids?: readonly number[]): Promise<number> {
  const sessions = (await sessionsOn(client, database)).filter((session) => !pids || pids.includes(session.pid));
  const refused: string[] = [];
  for (const session of sessions) {
    try {
      await client.query('SELECT pg_terminate_backend($1)', [session.pid]);
    } catch (error) {
      refused.push(`${describeSession(session)}: ${errorMessage(error)}`);
    }
  }
  if (refused.length > 0) {
    throw new DbfastError('SESSIONS_BLOCKING', `cannot end the sessions on database "${database}":\n  ${refused.join('\n  ')}`, {
      hint: 'Stop those clients, or grant the dbfast user pg_signal_backend (GRANT pg_signal_backend TO <user>).',
      details: { database, sessions: refused },
    });
  }
  return sessions.length;
}

/** How long `endSessions` waits. */
export interface EndSessionsOptions {
  /** How long to wait for terminated sessions to go away (default 10 s). */
  timeoutMs?: number;
}

/** Terminates the sessions on `database` and waits until they are gone; returns how many were ended. */
export async function endSessions(client: pg.Client, database: string, options: EndSessionsOptions = {}): Promise<number> {
  const ended = await terminateSessions(client, database);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  while (((await client.query(`SELECT 1 FROM pg_stat_activity WHERE ${SESSIONS_ON}`, [database])).rowCount ?? 0) > 0) {
    if (Date.now() > deadline) {
      throw new DbfastError('SESSIONS_BLOCKING', `sessions on database "${database}" did not end within ${timeoutMs} ms`, {
        hint: 'Stop the clients that keep reconnecting, then run the command again.',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return ended;
}

/**
 * Ends every session on the database with this oid (autovacuum workers included) and waits until
 * none is left in pg_stat_activity; true when they are gone, false when some were still there
 * after `timeoutMs`. By oid, so a rename in between does not matter. It polls every 2 ms (for
 * the pool's release, where this is on a test's path): pg_terminate_backend's own wait polls
 * every 100 ms. A backend leaves pg_stat_activity only after flushing its statistics, so the
 * counters read next include everything those sessions did.
 */
export async function endSessionsOn(client: pg.Client, oid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const others = 'FROM pg_stat_activity WHERE datid = $1 AND pid <> pg_backend_pid()';
  let left = (await client.query<{ n: number }>(`SELECT count(pg_terminate_backend(pid))::int AS n ${others}`, [oid])).rows[0]?.n ?? 0;
  while (left > 0) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
    left = (await client.query<{ n: number }>(`SELECT count(*)::int AS n ${others}`, [oid])).rows[0]?.n ?? 0;
  }
  return true;
}

/**
 * `DROP DATABASE IF EXISTS name WITH (FORCE)`, for databases no user code has run in (a clone
 * half made): one the user's code had could be a template or hold prepared transactions, which
 * `dropMadeDatabase` (drop.ts) clears.
 */
export function dropStatement(name: string): string {
  return `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`;
}

/**
 * Drops a database even if it is a template, has sessions or prepared transactions (it must be
 * one dbfast made: callers check); see drop.ts. Returns what had to be cleared first.
 */
export async function dropDatabase(client: pg.Client, name: string): Promise<string[]> {
  // A database that vanished under a command is an error there (DATABASE_NOT_FOUND), not a drop.
  return dropMadeDatabase(client, name, { missingOk: false });
}

/**
 * Ends the sessions on a database dbfast made on a remote, then drops it; nothing happens when
 * it does not exist. Returns whether it existed.
 */
export async function dropDatabaseIfExists(client: pg.Client, name: string): Promise<boolean> {
  if (!(await databaseExists(client, name))) return false;
  await endSessions(client, name);
  await dropMadeDatabase(client, name, { force: false });
  return true;
}

/** `COMMENT ON DATABASE`: where dbfast keeps its markers and manifests. */
export async function setComment(client: pg.Client, name: string, comment: string): Promise<void> {
  await client.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(comment)}`);
}

/** `COMMENT ON DATABASE`, for `renameInOneTransaction`; null removes the comment. */
export function commentStatement(database: string, comment: string | null): string {
  return `COMMENT ON DATABASE ${quoteIdent(database)} IS ${comment === null ? 'NULL' : quoteLiteral(comment)}`;
}

/** A database's comment, or null (none, or no such database). */
export async function databaseComment(client: pg.Client, database: string): Promise<string | null> {
  const result = await client.query<{ comment: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`, [database]);
  return result.rows[0]?.comment ?? null;
}

/** One change to a database's catalog entry, for `changeDatabases`. */
export type DatabaseChange =
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'comment'; database: string; comment: string }
  /** IS_TEMPLATE true, ALLOW_CONNECTIONS false: clonable, and nobody can connect and change it. */
  | { kind: 'freeze'; database: string }
  | { kind: 'connections'; database: string; allow: boolean };

function changeStatement(change: DatabaseChange): string {
  switch (change.kind) {
    case 'rename':
      return `ALTER DATABASE ${quoteIdent(change.from)} RENAME TO ${quoteIdent(change.to)}`;
    case 'comment':
      return `COMMENT ON DATABASE ${quoteIdent(change.database)} IS ${quoteLiteral(change.comment)}`;
    case 'freeze':
      return `ALTER DATABASE ${quoteIdent(change.database)} IS_TEMPLATE true ALLOW_CONNECTIONS false`;
    case 'connections':
      return `ALTER DATABASE ${quoteIdent(change.database)} ALLOW_CONNECTIONS ${change.allow ? 'true' : 'false'}`;
  }
}

/** How `changeDatabases` commits. */
export interface ChangeOptions {
  /**
   * false: the commit does not wait for its WAL to reach the disk. A crash can then lose the
   * change but never half of it (WAL is replayed in order), which suits databases that can be
   * rebuilt, like templates. true: it waits, even on a server configured with
   * synchronous_commit = off (what the user was told exists must survive a crash).
   * Undefined: the server's setting.
   */
  synchronousCommit?: boolean;
}

/**
 * Applies `changes` in one transaction and one round trip (one simple-query message, which the
 * server runs as a single implicit transaction): afterwards all of them happened or none did,
 * even if this process dies the moment the message is sent. Nobody may be connected to a
 * database being renamed.
 */
export async function changeDatabases(client: pg.Client, changes: readonly DatabaseChange[], options: ChangeOptions = {}): Promise<void> {
  if (changes.length === 0) return;
  const statements = changes.map(changeStatement);
  if (options.synchronousCommit !== undefined) statements.unshift(`SET LOCAL synchronous_commit = ${options.synchronousCommit ? 'on' : 'off'}`);
  await client.query(statements.join(';\n'));
}

/** Renames one database (nobody may be connected to it). */
export async function renameDatabase(client: pg.Client, from: string, to: string): Promise<void> {
  await changeDatabases(client, [{ kind: 'rename', from, to }]);
}

/** Ends a backend (e.g. one of our own connections stuck in CREATE DATABASE when the process is interrupted). */
export async function terminateBackend(client: pg.Client, pid: number): Promise<void> {
  await client.query('SELECT pg_terminate_backend($1)', [pid]);
}

/** Opens or closes a database to new connections. */
export async function setAllowConnections(client: pg.Client, database: string, allow: boolean): Promise<void> {
  await client.query(`ALTER DATABASE ${quoteIdent(database)} ALLOW_CONNECTIONS ${allow}`);
}

/** `ALTER DATABASE from RENAME TO to`, for `renameInOneTransaction`. */
export function renameStatement(from: string, to: string): string {
  return `ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`;
}

/**
 * One step of `renameInOneTransaction`: a statement, or a check run on the transaction's own
 * client between statements (it sees, and holds the locks of, the renames before it; a throw
 * rolls everything back).
 */
export type TransactionStep = string | ((client: pg.Client) => Promise<void>);

/**
 * Runs catalog statements (renames) in ONE transaction, so either all of them happen or none.
 * A lock another session holds makes it fail after `lockTimeoutMs` rather than wait forever.
 * An interrupt never lets it commit: COMMIT is sent only while no interrupt is being handled,
 * and the interrupt's cleanup waits until the transaction has ended one way or the other.
 */
export async function renameInOneTransaction(client: pg.Client, statements: readonly TransactionStep[], options: { lockTimeoutMs?: number } = {}): Promise<void> {
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const unregister = registerCleanup(() => settled);
  try {
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = '${Math.max(1, Math.round(options.lockTimeoutMs ?? 10_000))}ms'`);
      for (const statement of statements) await (typeof statement === 'string' ? client.query(statement) : statement(client));
      const signal = interrupted();
      if (signal) throw new DbfastError('INTERRUPTED', `interrupted (${signal}) before the renames were committed; nothing was renamed`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    unregister();
    settle();
  }
}
