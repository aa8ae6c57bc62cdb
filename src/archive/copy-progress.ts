import type pg from 'pg';
import type { Logger } from '../logger.js';

/**
 * Polls pg_stat_progress_copy while pg_restore loads a database, turning the COPYs it sees
 * into rows done out of the template's known total, with an ETA. Stops when told to.
 */
export function watchCopyProgress(client: pg.Client, database: string, totalRows: number, logger: Logger): () => void {
  const started = Date.now();
  const finished = new Map<string, number>();
  let current = new Map<string, number>();
  let stopped = false;
  const tick = async (): Promise<void> => {
    if (stopped) return;
    try {
      const result = await client.query<{ rel: string; tuples: string }>(
        `SELECT relid::regclass::text AS rel, tuples_processed AS tuples FROM pg_stat_progress_copy WHERE datname = $1`,
        [database],
      );
      const seen = new Map(result.rows.map((row) => [row.rel, Number(row.tuples)]));
      for (const [rel, tuples] of current) if (!seen.has(rel)) finished.set(rel, tuples);
      current = seen;
      const done = [...finished.values(), ...current.values()].reduce((sum, n) => sum + n, 0);
      const elapsed = (Date.now() - started) / 1000;
      const eta = done > 0 && totalRows > done ? ` eta ${Math.round((elapsed * (totalRows - done)) / done)} s` : '';
      const table = [...current.keys()][0];
      logger.progress({ phase: 'restore', done, total: totalRows, unit: 'rows', detail: `${table ? `(${table})` : ''}${eta}` });
    } catch {
      stopped = true;
    }
  };
  const timer = setInterval(() => void tick(), 1000);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
