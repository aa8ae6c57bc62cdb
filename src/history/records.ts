import { appendFile, mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import type { DbfastConfig } from '../config/types.js';
import { dbfastVersion } from '../version.js';
import { ensureDbfastSchema } from './schema.js';

/**
 * interrupted: Ctrl-C or SIGTERM; running: not finished yet, or killed outright after it changed
 * what is live. For both, the record's error says in which phase and what is live.
 */
export type DeployResult = 'success' | 'failed' | 'rolled_back' | 'refused' | 'interrupted' | 'running';
/** What a record is about: a deploy, a rollback, a restore, or a `migrate apply` run. */
export type HistoryKind = 'deploy' | 'rollback' | 'restore' | 'migrate';

/**
 * What started a run other than a person at the CLI: a webhook delivery. Stored as jsonb in
 * `dbfast.deploy_history.trigger` (null for runs started by hand).
 */
export interface DeployTrigger {
  /** `github`, `gitlab`, `gitea` or `bitbucket`. */
  provider: string;
  /** The provider's id of the delivery (the same on a redelivery). */
  deliveryId: string;
  /** The commit that was deployed. */
  commit: string;
  /** Who pushed, as the provider names them. */
  sender: string | null;
  /** The pushed ref (`refs/heads/main`, `refs/tags/v1.2`). */
  ref: string | null;
}

/** How long one phase of a run took. */
export interface PhaseTiming {
  name: string;
  durationMs: number;
}

/** One deploy (or rollback/restore), as recorded on the remote and locally. */
export interface DeployRecord {
  deployId: string;
  kind: HistoryKind;
  remote: string;
  environment: string;
  database: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  templateHash: string | null;
  backupId: string | null;
  result: DeployResult;
  error: string | null;
  osUser: string;
  host: string;
  dbfastVersion: string;
  phases: PhaseTiming[];
  hooksOutput: string | null;
  /** The webhook delivery that started the run; null when started by hand. */
  trigger: DeployTrigger | null;
  /**
   * What the run was told to leave out or let pass (`--skip-validation`, `--no-health-check`,
   * groups selected or skipped, a group that failed under `--continue-on-failure`), one sentence each.
   */
  notes: string[];
}

/** A record for a run starting now (result `failed` until the run says otherwise). */
export function newRecord(
  fields: Pick<DeployRecord, 'deployId' | 'kind' | 'remote' | 'environment' | 'database'> & { trigger?: DeployTrigger | null | undefined },
): DeployRecord {
  return {
    ...fields,
    trigger: fields.trigger ?? null,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    durationMs: null,
    templateHash: null,
    backupId: null,
    result: 'failed',
    error: null,
    osUser: os.userInfo().username,
    host: os.hostname(),
    dbfastVersion: dbfastVersion(),
    phases: [],
    hooksOutput: null,
    notes: [],
  };
}

/** Inserts (or, for the same id, updates) the record in the remote's `dbfast.deploy_history`, creating the table when missing. */
export async function recordOnRemote(client: pg.Client, record: DeployRecord): Promise<void> {
  await ensureDbfastSchema(client);
  await client.query(
    `INSERT INTO dbfast.deploy_history (deploy_id, kind, remote, environment, database, started_at, finished_at,
        duration_ms, template_hash, backup_id, result, error, os_user, host, dbfast_version, phases, hooks_output, "trigger", notes)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19)
     ON CONFLICT (deploy_id) DO UPDATE SET finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms,
        template_hash = EXCLUDED.template_hash, backup_id = EXCLUDED.backup_id, result = EXCLUDED.result,
        error = EXCLUDED.error, phases = EXCLUDED.phases, hooks_output = EXCLUDED.hooks_output, notes = EXCLUDED.notes`,
    [
      record.deployId, record.kind, record.remote, record.environment, record.database, record.startedAt,
      record.finishedAt, record.durationMs, record.templateHash, record.backupId, record.result, record.error,
      record.osUser, record.host, record.dbfastVersion, JSON.stringify(record.phases), record.hooksOutput,
      record.trigger === null ? null : JSON.stringify(record.trigger),
      JSON.stringify(record.notes),
    ],
  );
}

/** A `dbfast.deploy_history` row without the bulky columns (phases, hook output). */
export interface HistoryEntryRow {
  deploy_id: string;
  kind: HistoryKind;
  remote: string;
  environment: string;
  database: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  template_hash: string | null;
  backup_id: string | null;
  result: DeployResult;
  error: string | null;
  os_user: string | null;
  host: string | null;
  dbfast_version: string | null;
  /** Absent in rows read from a table made before the column existed. */
  trigger?: DeployTrigger | null;
  /** Absent (or null) in rows of a table made before the column existed. */
  notes?: string[] | null;
}

interface HistoryRow extends HistoryEntryRow {
  phases: PhaseTiming[] | null;
  hooks_output: string | null;
}

/** A history record without the bulky parts (phases, hook output): what summaries need. */
export type HistoryEntry = Omit<DeployRecord, 'phases' | 'hooksOutput'>;

/** A `dbfast.deploy_history` row as a history entry. */
export function entryFromRow(row: HistoryEntryRow): HistoryEntry {
  return {
    deployId: row.deploy_id,
    kind: row.kind,
    remote: row.remote,
    environment: row.environment,
    database: row.database,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at?.toISOString() ?? null,
    durationMs: row.duration_ms,
    templateHash: row.template_hash,
    backupId: row.backup_id,
    result: row.result,
    error: row.error,
    osUser: row.os_user ?? '',
    host: row.host ?? '',
    dbfastVersion: row.dbfast_version ?? '',
    trigger: row.trigger ?? null,
    notes: row.notes ?? [],
  };
}

/** Newest first. Returns [] when the database has no history table yet. */
export async function readRemoteHistory(client: pg.Client, limit: number): Promise<DeployRecord[]> {
  const exists = await client.query(`SELECT to_regclass('dbfast.deploy_history') IS NOT NULL AS ok`);
  if (exists.rows[0]?.ok !== true) return [];
  const result = await client.query<HistoryRow>(
    'SELECT * FROM dbfast.deploy_history ORDER BY started_at DESC, id DESC LIMIT $1',
    [limit],
  );
  return result.rows.map((row) => ({ ...entryFromRow(row), phases: row.phases ?? [], hooksOutput: row.hooks_output }));
}

/** This machine's history of a remote: `.dbfast/history/<remote>.jsonl` beside dbfast.toml. */
export function localHistoryFile(config: DbfastConfig, remote: string): string {
  return path.join(config.rootDir, '.dbfast', 'history', `${remote}.jsonl`);
}

/** Appends the record to this machine's history of its remote (one JSON line). */
export async function recordLocally(config: DbfastConfig, record: DeployRecord): Promise<void> {
  const file = localHistoryFile(config, record.remote);
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify(record)}\n`);
}

/** Newest first, one record per run; a torn last line (a killed process) is skipped, never fatal. */
export async function readLocalHistory(config: DbfastConfig, remote: string, limit: number): Promise<DeployRecord[]> {
  let text: string;
  try {
    text = await readFile(localHistoryFile(config, remote), 'utf8');
  } catch {
    return [];
  }
  // A run's provisional record (see RecordedRun.checkpoint) is followed by its final one: the last line of an id wins.
  const seen = new Set<string>();
  const records: DeployRecord[] = [];
  for (const line of text.split('\n').reverse()) {
    if (!line.trim()) continue;
    let record: DeployRecord;
    try {
      record = JSON.parse(line) as DeployRecord;
    } catch {
      continue;
    }
    if (seen.has(record.deployId)) continue;
    seen.add(record.deployId);
    // Lines written before triggers (or notes) were recorded have none.
    records.push({ ...record, trigger: record.trigger ?? null, notes: record.notes ?? [] });
  }
  return records.slice(0, limit);
}
