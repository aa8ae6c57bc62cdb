import type pg from 'pg';
import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { entryFromRow, readLocalHistory, type DeployRecord, type DeployResult, type HistoryEntry, type HistoryEntryRow, type HistoryKind } from './records.js';

export type { HistoryEntry };

export interface HistoryFilter {
  kind?: HistoryKind | undefined;
  result?: DeployResult | undefined;
  /** ISO time: only records started at or after it. */
  since?: string | undefined;
  limit?: number | undefined;
}

export interface HistoryEntries {
  source: 'remote' | 'local';
  /** Newest first. */
  entries: HistoryEntry[];
}

/** Reads `dbfast.deploy_history` with the filter applied by the server; [] when there is no table yet. */
export async function readRemoteEntries(client: pg.Client, filter: HistoryFilter): Promise<HistoryEntry[]> {
  const exists = await client.query(`SELECT to_regclass('dbfast.deploy_history') IS NOT NULL AS ok`);
  if (exists.rows[0]?.ok !== true) return [];
  const result = await client.query<HistoryEntryRow>(
    `SELECT deploy_id, kind, remote, environment, database, started_at, finished_at, duration_ms, template_hash,
            backup_id, result, error, os_user, host, dbfast_version,
            -- through to_jsonb: a history table made before the column existed reads as null
            to_jsonb(h) -> 'trigger' AS "trigger"
       FROM dbfast.deploy_history h
      WHERE ($1::text IS NULL OR kind = $1) AND ($2::text IS NULL OR result = $2) AND ($3::timestamptz IS NULL OR started_at >= $3)
      ORDER BY started_at DESC, id DESC
      LIMIT $4`,
    [filter.kind ?? null, filter.result ?? null, filter.since ?? null, filter.limit ?? null],
  );
  return result.rows.map(entryFromRow);
}

function strip(record: DeployRecord): HistoryEntry {
  const { phases: _phases, hooksOutput: _hooksOutput, ...entry } = record;
  return entry;
}

export async function readLocalEntries(config: DbfastConfig, remote: string, filter: HistoryFilter): Promise<HistoryEntry[]> {
  const since = filter.since ? Date.parse(filter.since) : undefined;
  const all = await readLocalHistory(config, remote, Number.MAX_SAFE_INTEGER);
  const matching = all
    .filter((r) => (filter.kind === undefined || r.kind === filter.kind) && (filter.result === undefined || r.result === filter.result))
    .filter((r) => since === undefined || Date.parse(r.startedAt) >= since)
    .map(strip);
  return filter.limit === undefined ? matching : matching.slice(0, filter.limit);
}

/**
 * The remote's own history (shared by everyone who deploys there); this machine's
 * `.dbfast/history/<remote>.jsonl` when the remote cannot be read (unreachable, no database yet).
 */
export async function historyEntries(input: {
  config: DbfastConfig;
  remote: string;
  filter: HistoryFilter;
  env?: NodeJS.ProcessEnv | undefined;
  logger: Logger;
  /** Skip the remote (already known to be unreachable). */
  localOnly?: boolean | undefined;
}): Promise<HistoryEntries> {
  const remote = findRemote(input.config, input.remote);
  if (!input.localOnly) {
    try {
      const entries = await withClient(remoteTarget(remote, input.env), (client) => readRemoteEntries(client, input.filter), { connectTimeoutMs: 10_000 });
      return { source: 'remote', entries };
    } catch (error) {
      input.logger.warn(`cannot read the history on remote "${remote.name}" (${errorMessage(error).split('\n')[0] ?? ''}); using the local history`);
    }
  }
  return { source: 'local', entries: await readLocalEntries(input.config, remote.name, input.filter) };
}
