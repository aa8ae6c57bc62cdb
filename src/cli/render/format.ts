import { Chalk, type ChalkInstance } from 'chalk';

/*
 * The one place for how the CLI writes things down: times, durations, sizes, tables, and colour.
 * Every renderer in this folder formats through these, so `dbfast history` and `dbfast backup
 * list` print a timestamp the same way, and colour is decided once per stream.
 */

/** An ISO timestamp as the CLI prints it: `2025-06-02 09:14:02Z` (UTC, whole seconds). */
export function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** `840 ms`, `17.0 s`; `-` when unknown. */
export function duration(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A time left, coarser than `duration`: `eta <1 s`, `eta 9 s`, `eta 2 min 05 s`. */
export function eta(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 1) return 'eta <1 s';
  if (seconds < 60) return `eta ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `eta ${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `40.7 MiB` (binary units, one decimal above bytes). */
export function bytes(count: number): string {
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${UNITS[unit]}`;
}

/** `1,234,567` */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** `1 file`, `2 files` (`plural(2, 'match', 'matches')` for irregular words). */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** The first non-empty line of a (possibly multi-line) message, trimmed. */
/** Every non-empty line of `text`, trimmed and joined with ` | `: a multi-line error kept whole on one line (a log line, a table cell). */
export function oneLine(text: string | null | undefined): string {
  return (text ?? '').split('\n').map((line) => line.trim()).filter(Boolean).join(' | ');
}

export function firstLine(text: string | null | undefined): string {
  return (text ?? '').split('\n').map((line) => line.trim()).find(Boolean) ?? '';
}

// ---- colour ----

/** chalk's levels: 0 none, 1 16 colours, 2 256, 3 truecolor. */
export type ColorLevel = 0 | 1 | 2 | 3;

export interface ColorInput {
  /** false with --no-color. */
  flag: boolean;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

/**
 * Whether (and how richly) to colour a stream. --no-color wins; then FORCE_COLOR (chalk's
 * meaning: `0`/`false` off, empty/`true`/`1` basic, `2` 256, `3` truecolor, even into a pipe);
 * then NO_COLOR (any non-empty value, https://no-color.org); then only a terminal that is not
 * `TERM=dumb` gets colour, as deep as COLORTERM/TERM say.
 */
export function colorLevel({ flag, isTTY, env }: ColorInput): ColorLevel {
  if (!flag) return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '' || force === 'true') return 1;
    if (force === 'false') return 0;
    const level = Number.parseInt(force, 10);
    return Number.isNaN(level) ? 1 : (Math.min(Math.max(level, 0), 3) as ColorLevel);
  }
  if (env.NO_COLOR) return 0;
  if (!isTTY || env.TERM === 'dumb') return 0;
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return 3;
  return /-256(color)?$/.test(env.TERM ?? '') ? 2 : 1;
}

/** What gets colour, by meaning rather than by hue, so renderers say `style.bad(...)`. */
export interface Style {
  readonly level: ColorLevel;
  /** FAIL, FAILED, errors. */
  bad(text: string): string;
  /** WARN, stale, warnings. */
  warn(text: string): string;
  /** ok, fresh, ready. */
  good(text: string): string;
  /** Table headers. */
  header(text: string): string;
  /** Secondary text: ids, hints' labels. */
  dim(text: string): string;
  /** A word that reads as a status (`ok`, `FAILED`, `stale`, ...) in its colour; others as they are. */
  status(word: string): string;
}

const BAD = new Set(['fail', 'failed', 'damaged',  'error', 'missing', 'drifted', 'bad', 'rolled_back', 'refused', 'interrupted', 'unreachable']);
const WARN = new Set(['warn', 'warning', 'stale', 'pending', 'dry_run', 'running', 'skipped']);
const GOOD = new Set(['ok', 'fresh', 'yes', 'success', 'applied', 'baseline', 'ready', 'up', 'same', 'deployed', 'restore-tested']);

/** A Style for a colour level (level 0: every function returns its text unchanged). */
export function makeStyle(level: ColorLevel): Style {
  const chalk: ChalkInstance = new Chalk({ level });
  const style: Style = {
    level,
    bad: (text) => chalk.red(text),
    warn: (text) => chalk.yellow(text),
    good: (text) => chalk.green(text),
    header: (text) => chalk.bold(text),
    dim: (text) => chalk.dim(text),
    status: (word) => {
      const key = word.trim().toLowerCase();
      if (BAD.has(key)) return style.bad(word);
      if (WARN.has(key)) return style.warn(word);
      if (GOOD.has(key)) return style.good(word);
      return word;
    },
  };
  return style;
}

/** No colour: for --json, pipes, and tests of plain text. */
export const plain: Style = makeStyle(0);

// ---- tables ----

// eslint-disable-next-line no-control-regex -- matching ANSI escape sequences is the point
const ANSI = /\x1b\[[0-9;]*m/g;

/** How wide a string shows on a terminal (colour codes take no room). */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

function pad(cell: string, width: number, right: boolean): string {
  const fill = ' '.repeat(Math.max(0, width - visibleLength(cell)));
  return right ? fill + cell : cell + fill;
}

export interface TableOptions {
  /** Column indexes to right-align (numbers). */
  alignRight?: number[];
  /** Colour per cell (after measuring, so widths stay right), e.g. status words. */
  cell?: (text: string, column: number) => string;
}

/**
 * A plain-text table: a header row (in `style.header`) and columns padded to their widest cell;
 * columns empty in every row are dropped (the first column always stays).
 */
export function table(style: Style, header: string[], rows: string[][], options: TableOptions = {}): string {
  const keep = header.map((_, column) => column).filter((column) => column === 0 || rows.some((row) => (row[column] ?? '') !== ''));
  const widths = keep.map((column) => Math.max((header[column] ?? '').length, ...rows.map((row) => visibleLength(row[column] ?? ''))));
  const line = (cells: string[], paint: (text: string, column: number) => string): string =>
    keep
      .map((column, index) => pad(paint(cells[column] ?? '', column), widths[index] as number, options.alignRight?.includes(column) === true))
      .join('  ')
      .trimEnd();
  const cell = options.cell ?? ((text: string) => text);
  return [line(header, (text) => (text ? style.header(text) : text)), ...rows.map((row) => line(row, cell))].join('\n');
}
