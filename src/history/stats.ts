import { findRemote } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { DeployResult } from './records.js';
import { historyEntries, type HistoryEntry } from './summary.js';

/** The window `dbfast stats` looks at by default. */
export const DEFAULT_STATS_DAYS = 30;

/** Which remotes, and over which window. */
export interface StatsOptions {
  config: DbfastConfig;
  /** One remote; every remote of the config when omitted. */
  remote?: string | undefined;
  days?: number | undefined;
  /** "Now", for the window (tests, reproducible reports). */
  now?: Date | undefined;
  logger?: Logger | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** One remote's deploy numbers over the window. */
export interface RemoteStats {
  remote: string;
  /** Where the records came from: the remote's dbfast.deploy_history, or .dbfast/history/<remote>.jsonl. */
  source: 'remote' | 'local';
  /** Deploys started in the window, whatever their result. */
  deploys: number;
  succeeded: number;
  failed: number;
  rolledBack: number;
  refused: number;
  /** succeeded / deploys (0..1); null without deploys. */
  successRate: number | null;
  /** Over the successful deploys (a failed one stops early, and would make deploys look fast). */
  meanDurationMs: number | null;
  /** Nearest-rank 95th percentile, over the successful deploys. */
  p95DurationMs: number | null;
  lastSuccess: { deployId: string; at: string; environment: string; durationMs: number | null; templateHash: string | null } | null;
  lastFailure: { deployId: string; at: string; result: DeployResult; error: string | null } | null;
}

/** The window and each remote's numbers. */
export interface StatsResult {
  days: number;
  /** Start of the window (ISO). */
  since: string;
  remotes: RemoteStats[];
}

/** Nearest-rank percentile of already sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function at(entry: HistoryEntry): string {
  return entry.finishedAt ?? entry.startedAt;
}

/** The numbers for one remote from its deploy records (newest first). */
export function summarizeDeploys(remote: string, source: RemoteStats['source'], entries: readonly HistoryEntry[]): RemoteStats {
  const count = (result: DeployResult): number => entries.filter((e) => e.result === result).length;
  const successes = entries.filter((e) => e.result === 'success');
  const durations = successes.map((e) => e.durationMs).filter((ms): ms is number => ms !== null).sort((a, b) => a - b);
  const success = successes[0];
  const failure = entries.find((e) => e.result !== 'success');
  return {
    remote,
    source,
    deploys: entries.length,
    succeeded: successes.length,
    failed: count('failed'),
    rolledBack: count('rolled_back'),
    refused: count('refused'),
    successRate: entries.length === 0 ? null : successes.length / entries.length,
    meanDurationMs: durations.length === 0 ? null : Math.round(durations.reduce((sum, ms) => sum + ms, 0) / durations.length),
    p95DurationMs: percentile(durations, 95),
    lastSuccess: success ? { deployId: success.deployId, at: at(success), environment: success.environment, durationMs: success.durationMs, templateHash: success.templateHash } : null,
    lastFailure: failure ? { deployId: failure.deployId, at: at(failure), result: failure.result, error: failure.error } : null,
  };
}

/** Deploy statistics per remote over the last `days` days, from each remote's history. */
export async function deployStats(options: StatsOptions): Promise<StatsResult> {
  const days = options.days ?? DEFAULT_STATS_DAYS;
  if (!Number.isFinite(days) || days <= 0) {
    throw new DbfastError('USAGE', `--days takes a positive number of days, not "${String(options.days)}"`, { hint: 'e.g. --days 30' });
  }
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? new Date();
  const since = new Date(now.getTime() - days * 86_400_000).toISOString();
  const names = options.remote === undefined ? Object.keys(options.config.remotes) : [findRemote(options.config, options.remote).name];
  const remotes: RemoteStats[] = [];
  for (const name of names) {
    const { source, entries } = await historyEntries({ config: options.config, remote: name, filter: { kind: 'deploy', since }, env: options.env, logger });
    remotes.push(summarizeDeploys(name, source, entries));
  }
  return { days, since, remotes };
}
