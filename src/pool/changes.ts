import type pg from 'pg';
import { connect } from '../pg/client.js';
import { withDatabase, type DbTarget } from '../pg/target.js';

/**
 * Whether a released database is provably unchanged, decided from what the server itself
 * recorded, never from what the test says. A database counts as unchanged only when, after every
 * session on it has ended (so each has flushed its statistics), all of these still hold:
 *
 * - its tuple counters in pg_stat_database (inserted, updated, deleted) have not moved. They
 *   count every row written to any table of the database, system catalogs included, in
 *   committed and rolled-back transactions alike: DDL, temp tables (their catalog rows),
 *   TRUNCATE (pg_class), ANALYZE (pg_statistic), large objects, a write rolled back and a write
 *   committed then deleted all move them;
 * - its statistics were not reset (stats_reset), which would hide the counters above, and the
 *   server has not restarted since the baseline was read (a crash, or an immediate stop, drops
 *   the counters without a new stats_reset: they start again from zero);
 * - its rows in the shared catalogs, which its own counters do not see, are as they were:
 *   pg_database (owner, ACL, connection limit, flags), per-database settings (ALTER DATABASE
 *   ... SET), security labels, and no replication slot, subscription or prepared transaction
 *   refers to it;
 * - every sequence reads the same last value (nextval and setval write no tuple, so the counters
 *   miss them; this check connects to the database once, and only when it has sequences).
 *
 * Not treated as changes: what leaves the logical contents as they were (hint bits, row locks of
 * SELECT ... FOR UPDATE, VACUUM's page maintenance). The one thing the server cannot vouch for is
 * a superuser session that turned `track_counts` off for itself; a server with track_counts off
 * gets nothing recycled.
 */
export interface ChangeBaseline {
  inserted: string;
  updated: string;
  deleted: string;
  statsReset: string | null;
  /** pg_postmaster_start_time() when read; absent in markers of older dbfast versions. */
  serverStarted?: string | undefined;
  /** md5 of the database's rows in shared catalogs (see above). */
  properties: string;
  /** md5 of every sequence's last value; null when there are none; `unreadable` when some cannot be read (never provable). */
  sequences: string | null;
}

export interface DatabaseState {
  name: string;
  comment: string | null;
  counters: Omit<ChangeBaseline, 'sequences'>;
}

const STATE_SQL = `
SELECT d.datname, shobj_description(d.oid, 'pg_database') AS comment,
       s.tup_inserted::text AS inserted, s.tup_updated::text AS updated, s.tup_deleted::text AS deleted,
       s.stats_reset::text AS stats_reset, pg_postmaster_start_time()::text AS server_started,
       md5(concat_ws('|',
         (to_jsonb(d) - ARRAY['datname', 'datfrozenxid', 'datminmxid'])::text,
         (SELECT string_agg(r.setrole::text || '=' || r.setconfig::text, ',' ORDER BY r.setrole) FROM pg_db_role_setting r WHERE r.setdatabase = d.oid),
         (SELECT string_agg(l.provider || '=' || l.label, ',' ORDER BY l.provider) FROM pg_shseclabel l WHERE l.objoid = d.oid AND l.classoid = 'pg_database'::regclass),
         (SELECT count(*) FROM pg_replication_slots r WHERE r.datoid = d.oid),
         CASE WHEN has_any_column_privilege('pg_catalog.pg_subscription', 'SELECT') THEN (SELECT count(*) FROM pg_subscription u WHERE u.subdbid = d.oid) END,
         (SELECT count(*) FROM pg_prepared_xacts x WHERE x.database = d.datname)
       )) AS properties
  FROM pg_database d JOIN pg_stat_database s ON s.datid = d.oid
 WHERE d.oid = $1`;

interface StateRow {
  datname: string;
  comment: string | null;
  inserted: string;
  updated: string;
  deleted: string;
  stats_reset: string | null;
  server_started: string;
  properties: string;
}

/** One round trip from the admin connection: the database's name, comment, counters and shared-catalog fingerprint. */
export async function readDatabaseState(client: pg.Client, oid: number): Promise<DatabaseState | undefined> {
  const row = (await client.query<StateRow>(STATE_SQL, [oid])).rows[0];
  if (!row) return undefined;
  return {
    name: row.datname,
    comment: row.comment,
    counters: { inserted: row.inserted, updated: row.updated, deleted: row.deleted, statsReset: row.stats_reset, serverStarted: row.server_started, properties: row.properties },
  };
}

/** Why the counters vouch for nothing any more: the server restarted after the baseline was read. */
export function restartedSince(baseline: ChangeBaseline, now: DatabaseState['counters']): string | undefined {
  return baseline.serverStarted !== undefined && now.serverStarted !== baseline.serverStarted ? 'the server restarted since it was made (its statistics may have been lost)' : undefined;
}

/** Why `now` differs from `baseline`, or undefined when it does not. */
export function describeChange(baseline: ChangeBaseline, now: DatabaseState['counters']): string | undefined {
  const restarted = restartedSince(baseline, now);
  if (restarted) return restarted;
  if (now.statsReset !== baseline.statsReset) return 'its statistics were reset';
  const moved = (['inserted', 'updated', 'deleted'] as const).filter((key) => now[key] !== baseline[key]);
  if (moved.length > 0) return `rows were ${moved.join(', ')} (pg_stat_database)`;
  if (now.properties !== baseline.properties) return 'its database-level settings changed (owner, privileges, ALTER DATABASE ... SET, slots or prepared transactions)';
  return undefined;
}

const SEQUENCES_SQL = `
SELECT count(*)::int AS n,
       bool_and(has_sequence_privilege(c.oid, 'SELECT') OR has_sequence_privilege(c.oid, 'USAGE')) AS readable,
       md5(coalesce(string_agg(c.oid::text || '=' || coalesce(
         CASE WHEN has_sequence_privilege(c.oid, 'SELECT') OR has_sequence_privilege(c.oid, 'USAGE') THEN pg_sequence_last_value(c.oid)::text END,
         '-'), ',' ORDER BY c.oid), '')) AS hash,
       pg_backend_pid() AS pid
  FROM pg_class c WHERE c.relkind = 'S'`;

/**
 * The sequences' fingerprint, read over a short connection to the database itself (sequences are
 * per database). The admin connection then ends that session and waits until its backend has
 * exited, so the next rename of the database does not wait for it.
 */
export async function sequenceFingerprint(admin: pg.Client, target: DbTarget, database: string): Promise<string | null> {
  const client = await connect(withDatabase(target, database), { applicationName: 'dbfast pool check' });
  let pid: number | undefined;
  try {
    const row = (await client.query<{ n: number; readable: boolean | null; hash: string; pid: number }>(SEQUENCES_SQL)).rows[0];
    pid = row?.pid;
    if (!row || row.n === 0) return null;
    return row.readable ? row.hash : 'unreadable';
  } finally {
    await client.end().catch(() => undefined);
    if (pid !== undefined) await waitForExit(admin, pid);
  }
}

/** Waits (polling every 2 ms, up to 5 s) until a backend has left pg_stat_activity. */
async function waitForExit(admin: pg.Client, pid: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const left = (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount ?? 0;
    if (left === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Sequences match the baseline: equal fingerprints, never when either could not be read. */
export function sameSequences(baseline: string | null, now: string | null): boolean {
  return baseline !== 'unreadable' && now === baseline;
}
