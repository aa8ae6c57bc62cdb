import type { Logger, ProgressEvent } from '../logger.js';
import { colorLevel, makeStyle, plain, type Style } from './render/format.js';
import { ProgressLine } from './render/progress.js';

/** The program's own options, accepted before or after any command. */
export interface GlobalOptions {
  config?: string;
  json?: boolean;
  verbose?: boolean;
  /** false with --no-color. */
  color?: boolean;
}

/** The process's streams and environment (a test may pass its own). */
export interface OutputStreams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

const PROCESS: OutputStreams = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/**
 * Where the CLI writes, and the only thing in it that does. Results go to stdout (one JSON
 * object with --json); messages, warnings and progress go to stderr, progress only on a
 * terminal and never with --json, so pipes and CI logs stay parseable. Every write first erases
 * a progress line that is showing, so output never lands glued to it.
 */
export class Output {
  readonly json: boolean;
  readonly verbose: boolean;
  /** Colour for what goes to stdout (results) and to stderr (messages, errors). */
  readonly style: Style;
  readonly errStyle: Style;
  /** A person at a terminal: prompts and progress make sense. */
  readonly interactive: boolean;
  private readonly progressLine: ProgressLine | undefined;

  constructor(options: GlobalOptions, private readonly io: OutputStreams = PROCESS) {
    this.json = options.json === true;
    this.verbose = options.verbose === true;
    this.interactive = io.stderr.isTTY === true && !this.json;
    const flag = options.color !== false && !this.json;
    this.style = flag ? makeStyle(colorLevel({ flag, isTTY: io.stdout.isTTY === true, env: io.env })) : plain;
    this.errStyle = flag ? makeStyle(colorLevel({ flag, isTTY: io.stderr.isTTY === true, env: io.env })) : plain;
    this.progressLine = this.interactive ? new ProgressLine(io.stderr, this.errStyle) : undefined;
    // However the process ends (process.exit in a handler included), the terminal's last line is clean.
    if (this.progressLine) process.once('exit', () => this.clearProgress());
  }

  /** The command's result: JSON on stdout with --json, else the human rendering (given the stdout style). */
  result(data: unknown, human: (style: Style) => string): void {
    if (this.json) {
      this.stdout(JSON.stringify(data, null, 2));
    } else {
      const text = human(this.style);
      if (text) this.stdout(text);
    }
  }

  /** A line on stdout as it is (for commands that stream results, e.g. `webhook serve`). */
  stdout(text: string): void {
    this.clearProgress();
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A line on stderr, whatever the mode (errors with --json go to stdout through renderError instead). */
  stderr(text: string): void {
    this.clearProgress();
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  message(text: string): void {
    if (!this.json) this.stderr(text);
  }

  warn(text: string): void {
    if (!this.json) this.stderr(`${this.errStyle.warn('warning:')} ${text}`);
  }

  debug(text: string): void {
    if (this.verbose && !this.json) this.stderr(this.errStyle.dim(text));
  }

  progress(event: ProgressEvent): void {
    this.progressLine?.update(event);
  }

  clearProgress(): void {
    this.progressLine?.clear();
  }

  /** The library's view of this output. */
  logger(): Logger {
    return {
      info: (message) => this.message(message),
      warn: (message) => this.warn(message),
      debug: (message) => this.debug(message),
      progress: (event) => this.progress(event),
    };
  }
}
