/**
 * How CREATE DATABASE copies the template (PostgreSQL 15+). WAL_LOG copies block by block through
 * the WAL: no checkpoint, fast for small templates, slow for big ones. FILE_COPY copies files but
 * forces two checkpoints and (with fsync on) fsyncs every copied file: a fixed cost that pays
 * off for big templates. `npm run bench -- --only strategy` measures the crossover; on the
 * project's 2-core machine with PostgreSQL's durable defaults WAL_LOG won up to 62-80 MiB
 * (by 1.2-1.4x) and FILE_COPY from 109-124 MiB up (by 1.0-1.5x), so the switch sits between.
 * With fsync off FILE_COPY is as fast or faster at every size; durable servers are the default.
 * This is the size above which FILE_COPY is used.
 */
export const FILE_COPY_ABOVE_BYTES = 96 * 1024 * 1024;

export type CloneStrategy = 'wal_log' | 'file_copy';

/** undefined = the server has no STRATEGY option (before 15): it always copies files. */
export function chooseStrategy(serverVersion: number, templateBytes: number | null, requested?: CloneStrategy): CloneStrategy | undefined {
  if (serverVersion < 150000) return undefined;
  if (requested) return requested;
  return (templateBytes ?? 0) > FILE_COPY_ABOVE_BYTES ? 'file_copy' : 'wal_log';
}
