import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { isDbfastError } from '../errors.js';
import { connect } from '../pg/client.js';
import { sslPlan } from '../pg/ssl.js';
import { databaseName, maskUrl, withDatabase, type DbTarget } from '../pg/target.js';
import { failed, passed, type CheckResult, type ServerFacts } from './types.js';

export interface ConnectivityOptions {
  /** Round trips of `SELECT 1` for the latency median (default 5). */
  pings?: number;
  connectTimeoutMs?: number;
}

/** An open connection to the target (or, when it does not exist yet, to the server), or why there is none. */
export type OpenedRemote = { client: pg.Client; database: string; failure?: undefined } | { client?: undefined; failure: CheckResult };

function causeCode(error: unknown): string | undefined {
  const cause = isDbfastError(error) ? error.cause : error;
  return (cause as { code?: string } | undefined)?.code;
}

/**
 * Connects to the target database; when it does not exist yet (a first deploy creates it),
 * to `postgres`, then `template1`, so the server can still be checked.
 */
async function connectSomewhere(target: DbTarget, options: ConnectivityOptions): Promise<{ client: pg.Client; database: string }> {
  const wanted = databaseName(target);
  const connectOptions = { connectTimeoutMs: options.connectTimeoutMs ?? 10_000, applicationName: 'dbfast remote test' };
  let firstError: unknown;
  for (const database of [wanted, 'postgres', 'template1']) {
    try {
      const client = await connect(database === wanted ? target : withDatabase(target, database), connectOptions);
      return { client, database };
    } catch (error) {
      firstError ??= error;
      if (causeCode(error) !== '3D000') throw database === wanted ? error : firstError;
    }
  }
  throw firstError;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

interface FactsRow {
  version: string;
  num: string;
  user: string;
  superuser: boolean;
  createdb: boolean;
  exists: boolean;
  is_template: boolean | null;
  owner: string | null;
  owns: boolean | null;
  ssl: boolean | null;
  tls: string | null;
}

/** Reads what the checks need over an open connection. */
export async function probeServer(client: pg.Client, target: DbTarget, connectedDatabase: string, pings = 5): Promise<ServerFacts> {
  const database = databaseName(target);
  const result = await client.query<FactsRow>(
    `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num,
            current_user AS "user", r.rolsuper AS superuser, r.rolcreatedb AS createdb,
            d.datname IS NOT NULL AS exists, d.datistemplate AS is_template, pg_get_userbyid(d.datdba) AS owner,
            CASE WHEN d.datname IS NULL THEN NULL ELSE pg_has_role(current_user, d.datdba, 'USAGE') END AS owns,
            s.ssl, s.version AS tls
       FROM pg_roles r
       LEFT JOIN pg_database d ON d.datname = $1
       LEFT JOIN pg_stat_ssl s ON s.pid = pg_backend_pid()
      WHERE r.rolname = current_user`,
    [database],
  );
  const row = result.rows[0] as FactsRow;
  const samples: number[] = [];
  for (let i = 0; i < Math.max(1, pings); i++) {
    const started = performance.now();
    await client.query('SELECT 1');
    samples.push(performance.now() - started);
  }
  const plan = sslPlan(target);
  return {
    serverVersion: row.version.split(' ')[0] as string,
    serverVersionNum: Number(row.num),
    currentUser: row.user,
    superuser: row.superuser,
    canCreateDatabases: row.superuser || row.createdb,
    database,
    connectedDatabase,
    databaseExists: row.exists,
    databaseIsTemplate: row.is_template === true,
    databaseOwner: row.owner,
    ownsDatabase: row.owns,
    ssl: { mode: plan.mode, source: plan.source, unixSocket: plan.unixSocket, encrypted: row.ssl === true, protocol: row.tls },
    latencyMs: Math.round(median(samples) * 1000) / 1000,
    latencySamples: samples.length,
  };
}

/** Connects for the checks; a failure to connect is a failed `connect` check, never a throw. */
export async function openRemote(target: DbTarget, options: ConnectivityOptions = {}): Promise<OpenedRemote> {
  try {
    return await connectSomewhere(target, options);
  } catch (error) {
    if (!isDbfastError(error) || error.code !== 'CONNECTION_FAILED') throw error;
    return { failure: failed('connect', error.message, error.hint) };
  }
}

/** The passed `connect` check: where, as whom, which server. */
export function connectedCheck(target: DbTarget, database: string, facts: ServerFacts): CheckResult {
  return passed('connect', `connected to ${maskUrl(withDatabase(target, database).url)} as ${facts.currentUser} (PostgreSQL ${facts.serverVersion})`);
}

export interface ConnectivityResult {
  check: CheckResult;
  /** Present when the connection worked. */
  facts?: ServerFacts;
}

/** Connects, reads the server's facts and closes; a failure is a failed `connect` check, never a throw. */
export async function checkConnectivity(target: DbTarget, options: ConnectivityOptions = {}): Promise<ConnectivityResult> {
  const opened = await openRemote(target, options);
  if (!opened.client) return { check: opened.failure };
  try {
    const facts = await probeServer(opened.client, target, opened.database, options.pings);
    return { check: connectedCheck(target, opened.database, facts), facts };
  } finally {
    await opened.client.end().catch(() => undefined);
  }
}
