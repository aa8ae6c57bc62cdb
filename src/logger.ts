/** What core modules may say while they work; the CLI decides where (if anywhere) it goes. */
export interface ProgressEvent {
  phase: string;
  /** Units done and total, when known (bytes, files, rows). */
  done?: number;
  total?: number;
  unit?: 'bytes' | 'files' | 'rows';
  detail?: string;
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
