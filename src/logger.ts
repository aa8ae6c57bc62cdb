/**
 * What core modules may say while they work; the CLI decides where (if anywhere) it goes.
 *
 * A step with a count: `done` of `total` in `unit` (files of a build, rows of a restore). A long
 * step inside it may add finer counters: `rows`/`totalRows` and `bytes`/`totalBytes` (a 150 MB
 * COPY in file 1 of 2), and `item`, what it works on now (a table, a file). Every field but
 * `phase` is optional and new ones only ever get added, so loggers written for older events keep
 * working. Events come often (every file, about once a second in a COPY); a renderer throttles.
 */
export interface ProgressEvent {
  phase: string;
  /** Units done and total, when known (bytes, files, rows). */
  done?: number;
  total?: number;
  unit?: 'bytes' | 'files' | 'rows';
  /** Free text shown after the counts (a file name, a rate). */
  detail?: string;
  /** What is being worked on now, by name: `public.film`, `data/0100_orders.sql`. */
  item?: string;
  /** Rows done within the step so far, and expected when known. */
  rows?: number;
  totalRows?: number;
  /** Bytes done within the step so far, and expected when known (a total makes an ETA possible). */
  bytes?: number;
  totalBytes?: number;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  progress(event: ProgressEvent): void;
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  progress: () => undefined,
};
