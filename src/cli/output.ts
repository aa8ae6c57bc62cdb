import type { Logger, ProgressEvent } from '../logger.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  color?: boolean;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export { formatBytes };

/**
 * Where the CLI writes. Results go to stdout (one JSON object with --json); messages and
 * progress go to stderr, and progress only on a TTY, so pipes and CI logs stay parseable.
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  readonly color: boolean;
  readonly interactive: boolean;
  private progressShown = false;

  constructor(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env) {
    this.json = options.json === true;
    this.verbose = options.verbose === true;
    this.interactive = process.stderr.isTTY === true && !this.json;
    this.color = options.color !== false && !env.NO_COLOR && process.stdout.isTTY === true && !this.json;
  }

  /** The command's result: JSON on stdout with --json, else the human rendering. */
  result(data: unknown, human: () => string): void {
    if (this.json) {
      process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    } else {
      const text = human();
      if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  message(text: string): void {
    if (this.json) return;
    this.clearProgress();
    process.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    if (this.json) return;
    this.clearProgress();
    process.stderr.write(`warning: ${text}\n`);
  }

  debug(text: string): void {
    if (this.verbose && !this.json) {
      this.clearProgress();
      process.stderr.write(`${text}\n`);
    }
  }

  progress(event: ProgressEvent): void {
    if (!this.interactive) return;
    let text = event.phase;
    if (event.done !== undefined) {
      const done = event.unit === 'bytes' ? formatBytes(event.done) : String(event.done);
      const total = event.total === undefined ? '' : ` / ${event.unit === 'bytes' ? formatBytes(event.total) : event.total}`;
      text += ` ${done}${total}${event.unit && event.unit !== 'bytes' ? ` ${event.unit}` : ''}`;
    }
    if (event.detail) text += ` ${event.detail}`;
    const width = process.stderr.columns || 80;
    process.stderr.write(`\r\x1b[2K${text.slice(0, Math.max(20, width - 1))}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (this.progressShown) {
      process.stderr.write('\r\x1b[2K');
      this.progressShown = false;
    }
  }

  logger(): Logger {
    return {
      info: (message) => this.message(message),
      warn: (message) => this.warn(message),
      debug: (message) => this.debug(message),
      progress: (event) => this.progress(event),
    };
  }
}
