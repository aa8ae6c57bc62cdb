import type pg from 'pg';
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
}

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
}

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
            CASE WHEN d.datname = $3 THEN pg_stat_get_db_numbackends(d.oid) END AS sessions
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
    });
  }
  return { serverVersion: Number(result.rows[0]?.server_version), databases };
}

export interface Session {
  pid: number;
  user: string | null;
  application: string | null;
  client: string | null;
  backendType: string | null;
  state: string | null;
}

/** Who is connected to a database, for messages that name the sessions in the way. */
export async function sessionsOn(client: pg.Client, database: string): Promise<Session[]> {
  const result = await client.query<{ pid: number; usename: string | null; application_name: string | null; client: string | null; backend_type: string | null; state: string | null }>(
    `SELECT pid, usename, application_name, coalesce(client_addr::text, CASE WHEN client_port = -1 THEN 'local socket' END) AS client,
            backend_type, state
       FROM pg_stat_activity
      -- CREATE DATABASE ends autovacuum workers on the template itself; they are nobody to report.
      WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type IS DISTINCT FROM 'autovacuum worker'
      ORDER BY pid`,
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

export function describeSession(session: Session): string {
  return `pid ${session.pid} (user ${session.user ?? '?'}, application "${session.application ?? ''}", client ${session.client ?? '?'})`;
}

export async function terminateSessions(client: pg.Client, database: string, pids?: readonly number[]): Promise<void> {
  await client.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND ($2::int[] IS NULL OR pid = ANY($2::int[]))`,
    [database, pids ?? null],
  );
}

/** Drops a database even if it is a template or has sessions (it must be one dbfast made: callers check). */
export async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  await client.query(`ALTER DATABASE ${quoteIdent(name)} IS_TEMPLATE false`);
  await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

export async function setComment(client: pg.Client, name: string, comment: string): Promise<void> {
  await client.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(comment)}`);
}
