import os from 'node:os';
import type pg from 'pg';
import { processRunning } from '../server/postmaster.js';
import { advisoryKeySql } from '../pg/lock.js';
import { quoteLiteral } from '../pg/quote.js';
import { decodePoolMarker, type PoolMarker } from './marker.js';
import { CAPPED_STATES, parseCreatingApplicationName, parsePoolName, type PoolState } from './names.js';

/** A pooled database as the server shows it to any process. */
export interface PooledDatabase {
  name: string;
  oid: number;
  state: PoolState;
  /** The template its name says it came from. */
  template: string;
  hex: string;
  /** Undefined while it is being made (or when its maker was killed before marking it complete). */
  marker: PoolMarker | undefined;
  /** The raw comment, compared on release to tell whether a test changed it. */
  comment: string | null;
  /** pg_database.oid of a database named like its template now; null when there is none. */
  templateOidNow: number | null;
  /** That template's comment (its manifest, which names its project); null when there is none. */
  templateComment: string | null;
  /**
   * Made after the database now named like its template (a greater oid: oids are handed out in
   * increasing order): false for a clone of a template that was replaced since, whoever's it was.
   */
  madeAfterTemplate: boolean;
  /** For leases: the session holding the lease lock, or null when nobody does (its process is gone). */
  holder: { pid: number; application: string | null } | null;
  sizeBytes: number | null;
}

/** A session making a pooled database right now (see creatingApplicationName). */
export interface CreatingSession {
  pid: number;
  hex: string;
  templateOid: number;
}

export interface ServerPool {
  databases: PooledDatabase[];
  creating: CreatingSession[];
  /**
   * On a server running without fsync (the managed server's fast settings), when it last
   * started: a database made before that may have lost files in an unclean shutdown. Null with fsync on.
   */
  unsafeBefore: number | null;
}

interface Row {
  oid: number;
  datname: string;
  comment: string | null;
  template_oid: number | null;
  template_comment: string | null;
  after_template: boolean;
  size: string | null;
  holder_pid: number | null;
  holder_application: string | null;
}

// pg_locks is read once (a CTE), not once per database: each read copies the server's whole lock table.
const POOLED_SQL = (sizes: boolean): string => `
WITH held AS MATERIALIZED (
  SELECT (l.classid::bigint << 32) | l.objid::bigint AS key, l.pid FROM pg_locks l
   WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
)
SELECT d.oid::int AS oid, d.datname, shobj_description(d.oid, 'pg_database') AS comment, t.oid::int AS template_oid,
       shobj_description(t.oid, 'pg_database') AS template_comment, coalesce(d.oid > t.oid, false) AS after_template,
       ${sizes ? "CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END" : 'NULL::bigint'} AS size,
       h.pid AS holder_pid, a.application_name AS holder_application
  FROM pg_database d
  LEFT JOIN pg_database t ON t.datname = substring(d.datname FROM '^(.+)__dbfast_(?:ready|lease|trash|kept)_[0-9a-f]{8}$')
  LEFT JOIN LATERAL (SELECT held.pid FROM held WHERE held.key = hashtextextended('dbfast:lease:' || d.oid::text, 0) LIMIT 1) h ON true
  LEFT JOIN pg_stat_activity a ON a.pid = h.pid
 WHERE d.datname ~ '__dbfast_(ready|lease|trash|kept)_[0-9a-f]{8}$'
 ORDER BY d.datname`;

const CREATING_SQL = "SELECT pid, application_name FROM pg_stat_activity WHERE application_name LIKE 'dbfast creating %'";
const STARTED_SQL = "SELECT CASE WHEN current_setting('fsync') = 'off' THEN pg_postmaster_start_time() END AS unsafe_before";

/**
 * Every pooled database on the server, of every project, with who holds each lease, and the
 * sessions making new ones: two statements in one round trip. `sizes` adds pg_database_size
 * (it walks each database's files, so only status asks for it).
 */
export async function readServerPool(client: pg.Client, options: { sizes?: boolean } = {}): Promise<ServerPool> {
  const results = (await client.query(`${POOLED_SQL(options.sizes === true)};\n${CREATING_SQL};\n${STARTED_SQL}`)) as unknown as [
    pg.QueryResult<Row>,
    pg.QueryResult<{ pid: number; application_name: string | null }>,
    pg.QueryResult<{ unsafe_before: Date | null }>,
  ];
  const databases: PooledDatabase[] = [];
  for (const row of results[0].rows) {
    const parsed = parsePoolName(row.datname);
    if (!parsed) continue;
    databases.push({
      name: row.datname,
      oid: row.oid,
      state: parsed.state,
      template: parsed.template,
      hex: parsed.hex,
      marker: decodePoolMarker(row.comment),
      comment: row.comment,
      templateOidNow: row.template_oid,
      templateComment: row.template_comment,
      madeAfterTemplate: row.after_template,
      holder: row.holder_pid === null ? null : { pid: row.holder_pid, application: row.holder_application },
      sizeBytes: row.size === null ? null : Number(row.size),
    });
  }
  const creating: CreatingSession[] = [];
  for (const row of results[1].rows) {
    const parsed = parseCreatingApplicationName(row.application_name);
    if (parsed) creating.push({ pid: row.pid, ...parsed });
  }
  const unsafeBefore = results[2].rows[0]?.unsafe_before ?? null;
  return { databases, creating, unsafeBefore: unsafeBefore === null ? null : unsafeBefore.getTime() };
}

/** Sessions still making a database that is not yet visible in pg_database. */
export function inFlight(pool: ServerPool): CreatingSession[] {
  const visible = new Set(pool.databases.map((database) => database.hex));
  return pool.creating.filter((session) => !visible.has(session.hex));
}

/** What counts against `max_clones`: ready, leased and trash databases, and the ones being made. */
export function cappedCount(pool: ServerPool): number {
  return pool.databases.filter((database) => CAPPED_STATES.includes(database.state)).length + inFlight(pool).length;
}

/**
 * Without fsync (the managed server's fast settings), a database made before the server's last
 * start may have lost files in an unclean shutdown: it is never handed out, and is garbage.
 */
function survivedRestart(pool: Pick<ServerPool, 'unsafeBefore'>, database: PooledDatabase): boolean {
  return madeSinceStart(pool.unsafeBefore, database.marker);
}

/** Whether a database with this marker was made since the server's last start (always true with fsync on: `unsafeBefore` null). */
export function madeSinceStart(unsafeBefore: number | null, marker: PoolMarker | undefined): boolean {
  return unsafeBefore === null || (marker !== undefined && Date.parse(marker.createdAt) >= unsafeBefore);
}

/** What a pool needs to know of its server, read on every (re)connect. */
export interface ServerFacts {
  /** server_version_num. */
  version: number;
  /** track_counts: without it nothing is provably unchanged. */
  tracksCounts: boolean;
  /** The server's last start when it runs without fsync (see ServerPool.unsafeBefore). */
  unsafeBefore: number | null;
}

export async function readServerFacts(client: pg.Client): Promise<ServerFacts> {
  const row = (
    await client.query<{ version: number; track_counts: boolean; unsafe_before: Date | null }>(
      "SELECT current_setting('server_version_num')::int AS version, current_setting('track_counts') = 'on' AS track_counts, " +
        "CASE WHEN current_setting('fsync') = 'off' THEN pg_postmaster_start_time() END AS unsafe_before",
    )
  ).rows[0];
  return { version: row?.version ?? 0, tracksCounts: row?.track_counts === true, unsafeBefore: row?.unsafe_before ? row.unsafe_before.getTime() : null };
}

/** Ready databases of exactly this build of the template (by its oid): the only ones a lease may take. */
export function readyFor(pool: ServerPool, template: string, templateOid: number): PooledDatabase[] {
  return pool.databases.filter(
    (database) =>
      database.state === 'ready' &&
      database.template === template &&
      database.marker?.templateOid === templateOid &&
      database.templateOidNow === templateOid &&
      survivedRestart(pool, database) &&
      // Its session still counts it as being made (the cap would count it twice once renamed).
      !pool.creating.some((session) => session.hex === database.hex),
  );
}

/**
 * Why a pooled database is garbage that its project may drop, or undefined when it is in use or
 * useful. Everything a process that is gone left is garbage, but for two kinds of database:
 * ready ones of the current template build (complete and unchanged: the next lease takes them)
 * and kept ones (the user's). A lease is garbage once no session holds its lock (its process
 * ended, or the server restarted); a ready one with no marker, once no session is making it.
 */
export function reapReason(database: PooledDatabase, pool: Pick<ServerPool, 'creating' | 'unsafeBefore'>): string | undefined {
  switch (database.state) {
    case 'kept':
      return undefined;
    case 'trash':
      return 'released changed (or stale), waiting to be dropped';
    case 'lease':
      if (database.holder) return undefined;
      // No lock after a server restart either: a lessee on this host that still runs keeps it.
      if (leaseeAlive(database.marker)) return undefined;
      return 'leased by a process that is gone';
    case 'ready':
      if (!database.marker) return pool.creating.some((session) => session.hex === database.hex) ? undefined : 'left incomplete by a process killed while making it';
      if (database.templateOidNow === null) return `its template ${database.template} no longer exists`;
      if (database.templateOidNow !== database.marker.templateOid) return `made from an older build of ${database.template}`;
      if (!survivedRestart(pool, database)) return 'made before the server restarted without fsync (its files may be incomplete)';
      return undefined;
  }
}

/** Whether the marker names a lessee on this host that still runs (another host's cannot be asked). */
export function leaseeAlive(marker: PoolMarker | undefined): boolean {
  const lessee = marker?.leasedBy;
  // By pid and start time: the lessee may have died and its pid been given to another process.
  return lessee !== undefined && lessee.host === os.hostname() && processRunning(lessee.pid, lessee.started);
}

/** The template's oid, and whether a build of it is under way (its build lock is held), in one round trip. */
export async function templateSnapshot(client: pg.Client, template: string, buildLockKey: string): Promise<{ oid: number | null; building: boolean }> {
  const row = (await client.query<{ oid: number | null; building: boolean }>(templateSnapshotSql(template, buildLockKey))).rows[0];
  return { oid: row?.oid ?? null, building: row?.building === true };
}

/**
 * Literal form, so a claim can send it in the same round trip as its rename (statements with
 * parameters cannot be batched). "Building" is asked of the lock manager directly: a shared try
 * on the build lock fails while a build holds it exclusively (and is let go at once otherwise),
 * which costs microseconds where reading pg_locks copies the whole lock table. Like the build
 * lock itself, it is scoped to the admin database of the config.
 */
export function templateSnapshotSql(template: string, buildLockKey: string): string {
  const key = advisoryKeySql(buildLockKey);
  return `SELECT (SELECT oid::int FROM pg_database WHERE datname = ${quoteLiteral(template)}) AS oid,
       CASE WHEN pg_try_advisory_lock_shared(${key}) THEN NOT pg_advisory_unlock_shared(${key}) ELSE true END AS building`;
}
