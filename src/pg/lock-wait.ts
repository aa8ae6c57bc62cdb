import type pg from 'pg';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { connect } from './client.js';
import type { DbTarget } from './target.js';

/** A session that holds what a dbfast session waits for, as far as the monitoring role may see it. */
export interface Blocker {
  pid: number;
  user: string | null;
  application: string | null;
  /** Address, or "local socket"; null when not visible (other users' sessions need pg_read_all_stats). */
  client: string | null;
  state: string | null;
  /** ISO times; null when not visible. */
  transactionStart: string | null;
  queryStart: string | null;
  /** The blocker's current (or last) statement, shortened; null when not visible. */
  query: string | null;
}

/** One dbfast session waiting for a lock, and who holds it. */
export interface LockWait {
  pid: number;
  /** The relations it waits for (`public.busy`), or null for other lock kinds. */
  relation: string | null;
  /** Seconds its statement has waited. */
  waitedSeconds: number;
  blockers: Blocker[];
}

interface WaitRow {
  pid: number;
  waited: number | null;
  relation: string | null;
  blocker: number | null;
  user: string | null;
  application: string | null;
  client: string | null;
  state: string | null;
  xact_start: Date | null;
  query_start: Date | null;
  query: string | null;
}

/** The lock waits of the sessions named `applicationName` in the client's database, with their blockers. */
export async function lockWaits(client: pg.Client, applicationName: string): Promise<LockWait[]> {
  const rows = await client.query<WaitRow>(
    `SELECT w.pid, extract(epoch FROM now() - w.query_start)::float8 AS waited,
            (SELECT string_agg(DISTINCT quote_ident(n.nspname) || '.' || quote_ident(c.relname), ', ')
               FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE l.pid = w.pid AND NOT l.granted) AS relation,
            b.pid AS blocker, b.usename AS "user", b.application_name AS application,
            coalesce(b.client_addr::text, CASE WHEN b.client_port = -1 THEN 'local socket' END) AS client,
            b.state, b.xact_start, b.query_start, left(b.query, 200) AS query
       FROM pg_stat_activity w
       CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
       LEFT JOIN pg_stat_activity b ON b.pid = bp.pid
      WHERE w.application_name = $1 AND w.datname = current_database()
      ORDER BY w.pid, b.pid`,
    [applicationName],
  );
  const waits = new Map<number, LockWait>();
  for (const row of rows.rows) {
    const wait = waits.get(row.pid) ?? { pid: row.pid, relation: row.relation, waitedSeconds: Math.max(0, row.waited ?? 0), blockers: [] };
    waits.set(row.pid, wait);
    if (row.blocker !== null) wait.blockers.push(blockerOf(row));
  }
  return [...waits.values()];
}

/**
 * Sessions holding a lock on `relation` (as `schema.table`) that conflicts with `mode`: who a
 * statement that gave up waiting was waiting for (the wait itself is gone by then).
 */
export async function lockHolders(client: pg.Client, relation: string, mode = 'AccessShareLock'): Promise<Blocker[]> {
  // Lock modes that conflict with each requested mode (PostgreSQL's table-level lock matrix).
  const conflicts: Record<string, string[]> = {
    AccessShareLock: ['AccessExclusiveLock'],
    RowShareLock: ['ExclusiveLock', 'AccessExclusiveLock'],
    RowExclusiveLock: ['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  };
  const rows = await client.query<WaitRow>(
    `SELECT a.pid AS blocker, a.usename AS "user", a.application_name AS application,
            coalesce(a.client_addr::text, CASE WHEN a.client_port = -1 THEN 'local socket' END) AS client,
            a.state, a.xact_start, a.query_start, left(a.query, 200) AS query
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.relation = to_regclass($1) AND l.mode = ANY($2) AND l.pid <> pg_backend_pid()
      ORDER BY a.pid`,
    [relation, conflicts[mode] ?? ['AccessExclusiveLock']],
  );
  return rows.rows.map(blockerOf);
}

function blockerOf(row: Omit<WaitRow, 'pid' | 'waited' | 'relation'> & { blocker: number | null }): Blocker {
  return {
    pid: row.blocker ?? 0,
    user: row.user,
    application: row.application,
    client: row.client,
    state: row.state,
    transactionStart: row.xact_start?.toISOString() ?? null,
    queryStart: row.query_start?.toISOString() ?? null,
    query: row.query === null || row.query === '<insufficient privilege>' ? null : row.query.replace(/\s+/g, ' ').trim(),
  };
}

/** One blocker in words: pid, user, application, client, since when, doing what. */
export function describeBlocker(blocker: Blocker): string {
  const parts = [`user ${blocker.user ?? '?'}`, `application "${blocker.application ?? ''}"`];
  if (blocker.client) parts.push(`client ${blocker.client}`);
  if (blocker.transactionStart) parts.push(`transaction started ${blocker.transactionStart}`);
  if (blocker.queryStart) parts.push(`${blocker.state === 'active' ? 'running' : 'last'} query started ${blocker.queryStart}${blocker.query ? `: ${blocker.query.length > 80 ? `${blocker.query.slice(0, 80)}…` : blocker.query}` : ''}`);
  else parts.push('query start not visible to this role (needs pg_read_all_stats)');
  return `pid ${blocker.pid} (${parts.join(', ')})`;
}

/** "waiting for a lock on public.busy held by pid 4242 (...)". */
export function describeLockWait(wait: LockWait): string {
  const on = wait.relation ? ` on ${wait.relation}` : '';
  const by = wait.blockers.length === 0 ? 'another session' : wait.blockers.map(describeBlocker).join('; ');
  return `waiting for a lock${on} held by ${by}`;
}

/** How a watcher reports: once per new set of blockers (warn), and as progress while waiting. */
export interface LockWatchOptions {
  /** The database the watched sessions work in. */
  target: DbTarget;
  /** `application_name` of the watched sessions. */
  applicationName: string;
  logger: Logger;
  /** What waits, for the messages ("the backup of database \"shop\""). */
  what: string;
  /** Set: the watched statement gives up after this long (said in the messages). */
  timeoutMs?: number | undefined;
  /** Poll interval (default 1 s; pg_blocking_pids is not free). */
  intervalMs?: number;
}

export interface LockWatch {
  /** The last wait seen, if any: what a lock timeout error names. */
  readonly lastWait: LockWait | undefined;
  stop(): Promise<void>;
}

/**
 * Watches sessions of dbfast's (pg_dump, a count) for lock waits and says who blocks them:
 * dbfast never waits silently. Best effort: a monitoring connection that fails only ends the
 * watching, never the work.
 */
export function watchLockWaits(options: LockWatchOptions): LockWatch {
  let client: pg.Client | undefined;
  let stopped = false;
  let lastWait: LockWait | undefined;
  let told = '';
  let busy = false;
  const tick = async (): Promise<void> => {
    if (stopped || busy) return;
    busy = true;
    try {
      client ??= await connect(options.target, { applicationName: 'dbfast lock watch' });
      if (stopped) {
        await client.end().catch(() => undefined);
        return;
      }
      const waits = await lockWaits(client, options.applicationName);
      const wait = waits[0];
      if (!wait) return;
      lastWait = wait;
      const key = wait.blockers.map((b) => b.pid).join(',');
      if (key !== told) {
        told = key;
        const then = options.timeoutMs === undefined ? 'waiting until it is released (--lock-timeout SECONDS gives up instead)' : `giving up after ${Math.round(options.timeoutMs / 1000)} s (--lock-timeout)`;
        options.logger.warn(`${options.what} is ${describeLockWait(wait)}; ${then}`);
      }
      options.logger.progress({ phase: 'waiting for a lock', detail: `${wait.relation ?? ''} held by pid ${wait.blockers.map((b) => b.pid).join(', ') || '?'} for ${Math.round(wait.waitedSeconds)} s` });
    } catch (error) {
      options.logger.debug(`lock watch stopped: ${errorMessage(error)}`);
      stopped = true;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), options.intervalMs ?? 1000);
  timer.unref();
  return {
    get lastWait() {
      return lastWait;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
