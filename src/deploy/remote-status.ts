import { listBackups } from '../backup/list.js';
import { backupScope } from '../backup/scope.js';
import type { DbfastConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { migrationStatus } from '../migrate/query.js';
import { scopeOf } from '../migrate/scope.js';
import { maskUrl } from '../pg/target.js';
import { resolveRemoteContext, type RemoteContext } from '../remote/context.js';
import { checkConnectivity } from '../validate/connectivity.js';
import { checkHealth, resolveHealthCheck, type HealthResult } from './health.js';
import type { DeployResult, HistoryKind } from '../history/records.js';
import { historyEntries, type HistoryEntry } from '../history/summary.js';

/** The remote's migrations, as `dbfast migrate status` counts them. */
export interface MigrationCounts {
  applied: number;
  pending: number;
  /** Applied, but the file changed since. */
  drifted: number;
}

/** Which remote. */
export interface RemoteStatusOptions {
  config: DbfastConfig;
  remote: string;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** What made the live database what it is: the newest successful deploy, restore or rollback. */
export interface DeployedSummary {
  kind: HistoryKind;
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

/** What `status --remote` prints (the `--json` shape). */
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
  /** What made the live database what it is: the newest successful deploy, restore or rollback; null when none is recorded. */
  deployed: DeployedSummary | null;
  /** The newest record of any kind and result (a later rollback or a failed deploy shows here). */
  lastEvent: { kind: HistoryKind; result: DeployResult; deployId: string; at: string; error: string | null } | null;
  migrations: MigrationCounts | null;
  /** Why `migrations` is null, or what went wrong computing it. */
  migrationsNote: string | null;
  lastBackup: { id: string; createdAt: string; sizeBytes: number; verified: boolean | null } | null;
  /** The health_check URL, asked once; null when none is configured. */
  health: HealthResult | null;
  /** Unreachable, the deployed database is gone, or the health check failed (`--check` exits 3). */
  ok: boolean;
  problems: string[];
}

function deployedFrom(entry: HistoryEntry): DeployedSummary {
  return {
    kind: entry.kind,
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

/** Migration counts when the remote tracks migrations; else why not. */
async function migrationCounts(ctx: RemoteContext): Promise<{ migrations: MigrationCounts | null; note: string | null }> {
  try {
    const report = await migrationStatus(scopeOf(ctx));
    if (!report.tracked) {
      const pending = report.pending.length;
      return { migrations: null, note: `not available: the remote has no dbfast.migrations yet (${pending} migration${pending === 1 ? '' : 's'} in ${report.directories.join(', ')} would be pending)` };
    }
    return { migrations: { applied: report.applied.length, pending: report.pending.length, drifted: report.drifted.length }, note: null };
  } catch (error) {
    return { migrations: null, note: `not available: ${errorMessage(error)}` };
  }
}

/**
 * What is live on a remote, and whether it is well: the newest successful deploy, restore or
 * rollback (from the remote's history, or this machine's when the remote cannot be read), the
 * newest event, the migrations (as `migrate status` counts them), the newest backup,
 * connectivity and health. Reads only.
 */
export async function remoteStatus(options: RemoteStatusOptions): Promise<RemoteStatusReport> {
  const ctx = resolveRemoteContext(options);
  const { config, remote, logger } = ctx;
  const problems: string[] = [];

  const connectivity = await checkConnectivity(ctx.target, { pings: 1, connectTimeoutMs: 10_000 });
  const facts = connectivity.facts;
  if (!connectivity.check.ok) problems.push(`cannot connect: ${connectivity.check.detail}`);
  const readable = connectivity.check.ok && facts?.databaseExists === true;

  const common = { config, remote: remote.name, env: ctx.env, logger, localOnly: !readable };
  const live = await historyEntries({ ...common, filter: { kind: ['deploy', 'restore', 'rollback'], result: 'success', limit: 1 } });
  // Reachable, but the database something was deployed into is gone (dropped by hand, a failed manual swap): the application has nothing.
  const deployedEntry = live.entries[0];
  if (connectivity.check.ok && facts?.databaseExists === false && deployedEntry) {
    problems.push(`database "${ctx.database}" does not exist on the server, though ${deployedEntry.kind} ${deployedEntry.deployId} put it there`);
  }
  const newest = await historyEntries({ ...common, filter: { limit: 1 } });
  const last = newest.entries[0];
  const { migrations, note: migrationsNote } = readable ? await migrationCounts(ctx) : { migrations: null, note: 'not available: the remote database cannot be read' };

  const backups = await listBackups(backupScope(config, remote.name, { logger, env: ctx.env }));
  const newestBackup = backups.backups[0];

  const healthCheck = resolveHealthCheck(remote.healthCheck);
  let health: HealthResult | null = null;
  if (healthCheck) {
    health = await checkHealth(healthCheck, { once: true });
    if (!health.ok) problems.push(`health check ${health.url}: ${health.error ?? 'failed'}`);
  }

  return {
    remote: remote.name,
    url: maskUrl(ctx.target.url),
    database: ctx.database,
    environment: remote.environment,
    connection: {
      ok: connectivity.check.ok,
      detail: connectivity.check.detail,
      databaseExists: facts?.databaseExists ?? null,
      serverVersion: facts?.serverVersion ?? null,
      latencyMs: facts?.latencyMs ?? null,
    },
    historySource: live.source,
    deployed: live.entries[0] ? deployedFrom(live.entries[0]) : null,
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
