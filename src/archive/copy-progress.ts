import type pg from 'pg';
import type { Logger } from '../logger.js';

/** `COPY public.film (film_id, ...) FROM stdin;` -> `public.film`, as pg_restore wrote it (quotes kept). */
export function copyTarget(query: string | null): string | undefined {
  const match = /^\s*COPY\s+((?:"(?:[^"]|"")+"|[^\s.(]+)(?:\.(?:"(?:[^"]|"")+"|[^\s.(]+))?)/i.exec(query ?? '');
  return match?.[1];
}

/**
 * Polls pg_stat_progress_copy while pg_restore loads `database`, turning the COPYs it sees into
 * rows done out of the template's known total, bytes read, and the table being loaded. The
 * polling connection is in another database, where the COPY's relation OID names nothing, so
 * the table's name is read from the statement pg_restore is running (pg_stat_activity; the same
 * role can see it). Stops when told to.
 */
export function watchCopyProgress(client: pg.Client, database: string, totalRows: number, logger: Logger): () => void {
  const finished: Array<{ rows: number; bytes: number }> = [];
  let current = new Map<string, { rows: number; bytes: number; table: string | undefined }>();
  let stopped = false;
  const tick = async (): Promise<void> => {
    if (stopped) return;
    try {
      const result = await client.query<{ pid: number; tuples: string; bytes: string; query: string | null }>(
        `SELECT p.pid, p.tuples_processed AS tuples, p.bytes_processed AS bytes, a.query
           FROM pg_stat_progress_copy p LEFT JOIN pg_stat_activity a ON a.pid = p.pid
          WHERE p.datname = $1`,
        [database],
      );
      // Keyed by backend and table: pg_restore -j runs several COPYs at once, one per backend.
      const seen = new Map(
        result.rows.map((row) => {
          const table = copyTarget(row.query);
          return [`${row.pid}:${table ?? ''}` as string, { rows: Number(row.tuples), bytes: Number(row.bytes), table }] as const;
        }),
      );
      for (const [key, copy] of current) if (!seen.has(key)) finished.push(copy);
      current = seen;
      const all = [...finished, ...current.values()];
      const rows = all.reduce((sum, copy) => sum + copy.rows, 0);
      const bytes = all.reduce((sum, copy) => sum + copy.bytes, 0);
      const table = [...current.values()].map((copy) => copy.table).find(Boolean);
      logger.progress({ phase: 'restore', done: rows, total: totalRows, unit: 'rows', bytes, ...(table ? { item: table } : {}) });
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
