import type { Logger } from '../logger.js';
import type { PhaseTiming } from './records.js';

/** Runs named phases in order, timing each and telling the logger when one starts and ends. */
export class PhaseClock {
  readonly phases: PhaseTiming[] = [];
  /** The phase running now, if any (what an interrupted run's record names). */
  current: string | undefined;

  constructor(private readonly logger: Logger) {}

  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.current = name;
    this.logger.progress({ phase: name });
    try {
      return await fn();
    } finally {
      const durationMs = Date.now() - started;
      this.phases.push({ name, durationMs });
      this.current = undefined;
      this.logger.info(`${name.padEnd(10)} ${formatMs(durationMs)}`);
    }
  }

  /** The phases' durations added up. */
  total(): number {
    return this.phases.reduce((sum, phase) => sum + phase.durationMs, 0);
  }
}

/** `950 ms`, `12.3 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
