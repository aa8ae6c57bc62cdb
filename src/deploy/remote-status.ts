import { listBackups } from '../backup/list.js';
import { backupScope } from '../backup/scope.js';
import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { databaseName, maskUrl, type DbTarget } from '../pg/target.js';
import { checkConnectivity } from '../validate/connectivity.js';
import { checkHealth, resolveHealthCheck, type HealthResult } from './health.js';
import type { DeployResult, HistoryKind } from '../history/records.js';
import { historyEntries, type HistoryEntry } from '../history/summary.js';

/** Migration counts, from whoever can compute them (see RemoteStatusOptions.migrations). */
export interface MigrationCounts {
  applied: number;
  pending: number;
  /** Applied, but the file changed since. */
  drifted: number;
}

/** Reports the remote's migrations; the status has `migrations: null` without one. */
export type MigrationCounter = (input: { config: DbfastConfig; remote: string; target: DbTarget }) => Promise<MigrationCounts>;

export interface RemoteStatusOptions {
  config: DbfastConfig;
  remote: string;
  migrations?: MigrationCounter | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface DeployedSummary {
  deployId: string;
  environment: string;
  /** Hash of the template's manifest (files and filter) that was deployed. */
  templateHash: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  osUser: string;
  host: string;
  backupId: string | null;
  dbfastVersion: string;
}

export interface RemoteStatusReport {
  remote: string;
  /** Password masked. */
  url: string;
  database: string;
  /** The environment the remote is configured for. */
  environment: string;
  connection: { ok: boolean; detail: string; databaseExists: boolean | null; serverVersion: string | null; latencyMs: number | null };
  /** Where `deployed` and `lastEvent` come from. */
  historySource: 'remote' | 'local';
  /** The last successful deploy; null when none is recorded. */
  deployed: DeployedSummary | null;
  /** The newest record of any kind and result (a later rollback or a failed deploy shows here). */
  lastEvent: { kind: HistoryKind; result: DeployResult; deployId: string; at: string; error: string | null } | null;
  migrations: MigrationCounts | null;
  /** Why `migrations` is null, or what went wrong computing it. */
  migrationsNote: string | null;
  lastBackup: { id: string; createdAt: string; sizeBytes: number; verified: boolean | null } | null;
  /** The health_check URL, asked once; null when none is configured. */
  health: HealthResult | null;
  /** Unreachable, or the health check failed (`--check` exits 3). */
  ok: boolean;
  problems: string[];
}

function deployedFrom(entry: HistoryEntry): DeployedSummary {
  return {
    deployId: entry.deployId,
    environment: entry.environment,
    templateHash: entry.templateHash,
    startedAt: entry.startedAt,
    finishedAt: entry.finishedAt,
    durationMs: entry.durationMs,
    osUser: entry.osUser,
    host: entry.host,
    backupId: entry.backupId,
    dbfastVersion: entry.dbfastVersion,
  };
}

/**
 * What is deployed on a remote, and whether it is well: the last successful deploy (from the
 * remote's history, or this machine's when the remote cannot be read), the newest event,
 * migrations (when a counter is given), the newest backup, connectivity and health. Reads only.
 */
export async function remoteStatus(options: RemoteStatusOptions): Promise<RemoteStatusReport> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const env = options.env ?? process.env;
  const remote = findRemote(config, options.remote);
  const target = remoteTarget(remote, env);
  const problems: string[] = [];

  const connectivity = await checkConnectivity(target, { pings: 1, connectTimeoutMs: 10_000 });
  const facts = connectivity.facts;
  if (!connectivity.check.ok) problems.push(`cannot connect: ${connectivity.check.detail}`);
  const readable = connectivity.check.ok && facts?.databaseExists === true;

  const common = { config, remote: remote.name, env, logger, localOnly: !readable };
  const [successes, newest] = [
    await historyEntries({ ...common, filter: { kind: 'deploy', result: 'success', limit: 1 } }),
    await historyEntries({ ...common, filter: { limit: 1 } }),
  ];
  const last = newest.entries[0];

  let migrations: MigrationCounts | null = null;
  let migrationsNote: string | null = 'not available: this dbfast has no migration support wired into status';
  if (options.migrations) {
    if (!readable) {
      migrationsNote = 'not available: the remote database cannot be read';
    } else {
      try {
        migrations = await options.migrations({ config, remote: remote.name, target });
        migrationsNote = null;
      } catch (error) {
        migrationsNote = `not available: ${errorMessage(error)}`;
      }
    }
  }

  const backups = await listBackups(backupScope(config, remote.name, { logger, env }));
  const newestBackup = backups.backups[0];

  const healthCheck = resolveHealthCheck(remote.healthCheck);
  let health: HealthResult | null = null;
  if (healthCheck) {
    health = await checkHealth(healthCheck, { once: true });
    if (!health.ok) problems.push(`health check ${health.url}: ${health.error ?? 'failed'}`);
  }

  return {
    remote: remote.name,
    url: maskUrl(target.url),
    database: databaseName(target),
    environment: remote.environment,
    connection: {
      ok: connectivity.check.ok,
      detail: connectivity.check.detail,
      databaseExists: facts?.databaseExists ?? null,
      serverVersion: facts?.serverVersion ?? null,
      latencyMs: facts?.latencyMs ?? null,
    },
    historySource: successes.source,
    deployed: successes.entries[0] ? deployedFrom(successes.entries[0]) : null,
    lastEvent: last ? { kind: last.kind, result: last.result, deployId: last.deployId, at: last.finishedAt ?? last.startedAt, error: last.error } : null,
    migrations,
    migrationsNote,
    lastBackup: newestBackup
      ? { id: newestBackup.id, createdAt: newestBackup.createdAt, sizeBytes: newestBackup.sizeBytes, verified: { verified: true, damaged: false, unverified: null }[backups.health[newestBackup.id] ?? 'unverified'] }
      : null,
    health,
    ok: problems.length === 0,
    problems,
  };
}
