import type pg from 'pg';
import { findRemote, remoteTarget } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { entryFromRow, readLocalHistory, type DeployRecord, type DeployResult, type HistoryEntry, type HistoryEntryRow, type HistoryKind } from './records.js';

export type { HistoryEntry };

/** Which records: kinds, result, start time, how many. */
export interface HistoryFilter {
  /** One kind, or any of several. */
  kind?: HistoryKind | readonly HistoryKind[] | undefined;
  result?: DeployResult | undefined;
  /** ISO time: only records started at or after it. */
  since?: string | undefined;
  limit?: number | undefined;
}

/** Matching records and where they were read. */
export interface HistoryEntries {
  source: 'remote' | 'local';
  /** Newest first. */
  entries: HistoryEntry[];
}

function kinds(filter: HistoryFilter): readonly HistoryKind[] | null {
  if (filter.kind === undefined) return null;
  return typeof filter.kind === 'string' ? [filter.kind] : filter.kind;
}

/** Reads `dbfast.deploy_history` with the filter applied by the server; [] when there is no table yet. */
export async function readRemoteEntries(client: pg.Client, filter: HistoryFilter): Promise<HistoryEntry[]> {
  const exists = await client.query(`SELECT to_regclass('dbfast.deploy_history') IS NOT NULL AS ok`);
  if (exists.rows[0]?.ok !== true) return [];
  const result = await client.query<HistoryEntryRow>(
    `SELECT deploy_id, kind, remote, environment, database, started_at, finished_at, duration_ms, template_hash,
            backup_id, result, error, os_user, host, dbfast_version,
            -- through to_jsonb: a history table made before the column existed reads as null
            to_jsonb(h) -> 'trigger' AS "trigger", to_jsonb(h) -> 'notes' AS notes
       FROM dbfast.deploy_history h
      WHERE ($1::text[] IS NULL OR kind = ANY ($1::text[])) AND ($2::text IS NULL OR result = $2) AND ($3::timestamptz IS NULL OR started_at >= $3)
      ORDER BY started_at DESC, id DESC
      LIMIT $4`,
    [kinds(filter), filter.result ?? null, filter.since ?? null, filter.limit ?? null],
  );
  return result.rows.map(entryFromRow);
}

function strip(record: DeployRecord): HistoryEntry {
  const { phases: _phases, hooksOutput: _hooksOutput, ...entry } = record;
  return entry;
}

/** The same filter over this machine's JSON-lines history. */
export async function readLocalEntries(config: DbfastConfig, remote: string, filter: HistoryFilter): Promise<HistoryEntry[]> {
  const since = filter.since ? Date.parse(filter.since) : undefined;
  const wanted = kinds(filter);
  const all = await readLocalHistory(config, remote, Number.MAX_SAFE_INTEGER);
  const matching = all
    .filter((r) => (wanted === null || wanted.includes(r.kind)) && (filter.result === undefined || r.result === filter.result))
    .filter((r) => since === undefined || Date.parse(r.startedAt) >= since)
    .map(strip);
  return filter.limit === undefined ? matching : matching.slice(0, filter.limit);
}

/** Whose history, and whether to read the remote at all. */
export interface HistorySource {
  config: DbfastConfig;
  remote: string;
  env?: NodeJS.ProcessEnv | undefined;
  logger: Logger;
  /** Skip the remote (asked for, or already known to be unreachable). */
  localOnly?: boolean | undefined;
}

/**
 * The one place that decides where history is read: the remote's own `dbfast.deploy_history`
 * (shared by everyone who deploys there), else, when the remote cannot be read (unreachable, no
 * database yet) or `localOnly`, this machine's `.dbfast/history/<remote>.jsonl`.
 */
export async function remoteElseLocal<T>(input: HistorySource, fromRemote: (client: pg.Client) => Promise<T>, fromLocal: () => Promise<T>): Promise<{ source: 'remote' | 'local'; value: T }> {
  const remote = findRemote(input.config, input.remote);
  if (!input.localOnly) {
    try {
      return { source: 'remote', value: await withClient(remoteTarget(remote, input.env), fromRemote, { connectTimeoutMs: 10_000 }) };
    } catch (error) {
      input.logger.warn(`cannot read the history on remote "${remote.name}" (${errorMessage(error).split('\n')[0] ?? ''}); using the local history`);
    }
  }
  return { source: 'local', value: await fromLocal() };
}

/** History entries (without phases and hook output) that match `filter`, from the remote else locally. */
export async function historyEntries(input: HistorySource & { filter: HistoryFilter }): Promise<HistoryEntries> {
  const { source, value } = await remoteElseLocal(input, (client) => readRemoteEntries(client, input.filter), () => readLocalEntries(input.config, input.remote, input.filter));
  return { source, entries: value };
}
