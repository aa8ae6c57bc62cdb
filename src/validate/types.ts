import type { ErrorCode } from '../errors.js';
import type { SslMode, SslPlan } from '../pg/ssl.js';

/**
 * error: something needed is missing (exit 3); warning: works, but not the way it should
 * (reported, exit 0); info: a fact worth showing.
 */
export type CheckSeverity = 'error' | 'warning' | 'info';

export interface CheckResult {
  /** Stable identifier: connect, database, owner, createdb, read, pg_dump, pg_restore, ssl, latency. */
  name: string;
  ok: boolean;
  severity: CheckSeverity;
  detail: string;
  hint?: string | undefined;
  /** The error code of what the check found, when it has one (PERMISSION_DENIED for `read`). */
  code?: ErrorCode | undefined;
}

/** What one connection found out about a server and the target database. */
export interface ServerFacts {
  serverVersion: string;
  serverVersionNum: number;
  currentUser: string;
  superuser: boolean;
  /** rolcreatedb or superuser. */
  canCreateDatabases: boolean;
  /** The database the URL names (deploys and restores replace it). */
  database: string;
  /** The database the connection actually used (postgres when the target does not exist yet). */
  connectedDatabase: string;
  databaseExists: boolean;
  /** pg_database.datistemplate of the target (false when it does not exist). */
  databaseIsTemplate: boolean;
  databaseOwner: string | null;
  /** The current user is (a member of) the owner; null when the database does not exist. */
  ownsDatabase: boolean | null;
  ssl: SslReport;
  /** Median round trip of `SELECT 1`, milliseconds. */
  latencyMs: number;
  latencySamples: number;
}

export interface SslReport {
  mode: SslMode;
  source: SslPlan['source'];
  unixSocket: boolean;
  encrypted: boolean;
  /** TLS protocol version when encrypted. */
  protocol: string | null;
}

/** A failed check is `error` unless said otherwise. */
export function failed(name: string, detail: string, hint?: string, severity: CheckSeverity = 'error'): CheckResult {
  return { name, ok: false, severity, detail, hint };
}

export function passed(name: string, detail: string, severity: CheckSeverity = 'info'): CheckResult {
  return { name, ok: true, severity, detail };
}

/** True when no check failed with severity error. */
export function allNeededOk(checks: readonly CheckResult[]): boolean {
  return checks.every((check) => check.ok || check.severity !== 'error');
}
