import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A corpus of ../shared/realworld/ (DESIGN.md), looked for above the checkout: the main
 * checkout has it one folder up, a worktree under /work/wt/NAME two.
 */
export function realworld(name: string): string {
  for (let dir = path.dirname(ROOT); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'shared', 'realworld', name);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return path.resolve(ROOT, '..', 'shared', 'realworld', name);
  }
}
export const CLI = path.join(ROOT, 'bin', 'dbfast.js');

/**
 * One line of a suite's table. Every suite (also bench/backup.ts, written to this shape) returns
 * these; `target` is the only place a target is written (`≤ 1.5×` against the baseline, or an
 * absolute `≤ 50 ms` / `≤ 1 s`), and `evaluate` reads pass/fail from it.
 */
export interface BenchRow {
  suite: string;
  case: string;
  dbfastMs: number;
  /** null when the target is absolute and there is nothing to compare with. */
  baselineMs: number | null;
  baseline: string;
  target: string;
  /** What was measured on (a repository, a size): its own column when any row has one. */
  subject?: string;
  /** Extra columns: sizes, memory, notes. */
  note?: string;
  /** A memory row: peak resident size, judged against a `≤ N MiB` target (the dbfast column shows it). */
  peakRssMiB?: number;
  /** A row judged by a check rather than a number (say, two dumps compared): its outcome. */
  passed?: boolean;
  /** Every run's time, for --json. */
  samples?: { dbfast: number[]; baseline: number[] };
}

export interface Evaluated {
  ratio: number | null;
  /** null: the target could not be read (then the row is reported, not judged). */
  pass: boolean | null;
}

/** Reads `≤ 1.5×`, `<= 2x`, `≤ 50 ms`, `≤ 1 s`, `≤ 256 MiB` (a memory row) from the target text. */
export function evaluate(row: BenchRow): Evaluated {
  if (row.passed !== undefined) return { ratio: row.baselineMs && row.baselineMs > 0 ? row.dbfastMs / row.baselineMs : null, pass: row.passed };
  const memory = /(?:≤|<=)\s*([\d.]+)\s*MiB/i.exec(row.target);
  if (memory) return { ratio: null, pass: row.peakRssMiB === undefined ? null : row.peakRssMiB <= Number(memory[1]) };
  const ratio = row.baselineMs && row.baselineMs > 0 ? row.dbfastMs / row.baselineMs : null;
  const match = /(?:≤|<=)\s*([\d.]+)\s*(×|x|ms|s)(?![a-z])/i.exec(row.target);
  if (!match) return { ratio, pass: null };
  const limit = Number(match[1]);
  const unit = (match[2] as string).toLowerCase();
  if (unit === '×' || unit === 'x') return { ratio, pass: ratio === null ? null : ratio <= limit };
  return { ratio, pass: row.dbfastMs <= (unit === 's' ? limit * 1000 : limit) };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

export interface Comparison {
  dbfastMs: number;
  baselineMs: number;
  samples: { dbfast: number[]; baseline: number[] };
}

export interface CompareSteps {
  dbfast: (run: number) => Promise<unknown> | unknown;
  baseline: (run: number) => Promise<unknown> | unknown;
  /** Untimed, before each run (fresh target databases, checkpoints). */
  prepare?: (run: number) => Promise<unknown> | unknown;
  /** Untimed, after each run (drop what the run created). */
  cleanup?: (run: number) => Promise<unknown> | unknown;
  /** Called with each run's times, for progress lines. */
  report?: (run: number, dbfastMs: number, baselineMs: number) => void;
}

/** Runs both sides `runs` times, alternating which goes first, so drift on a noisy machine hits both equally. */
export async function compare(runs: number, steps: CompareSteps): Promise<Comparison> {
  const a: number[] = [];
  const b: number[] = [];
  for (let run = 0; run < runs; run++) {
    await steps.prepare?.(run);
    let ours: number;
    let theirs: number;
    if (run % 2 === 0) {
      ours = await timeIt(() => steps.dbfast(run));
      theirs = await timeIt(() => steps.baseline(run));
    } else {
      theirs = await timeIt(() => steps.baseline(run));
      ours = await timeIt(() => steps.dbfast(run));
    }
    a.push(ours);
    b.push(theirs);
    steps.report?.(run, ours, theirs);
    await steps.cleanup?.(run);
  }
  return { dbfastMs: median(a), baselineMs: median(b), samples: { dbfast: a, baseline: b } };
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Buffer;
}

/** Runs a program (argument array, no shell) and returns its stdout; throws with its stderr on failure. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): string {
  const result = spawnSync(command, args, { env: options.env ?? process.env, cwd: options.cwd, encoding: 'utf8', input: options.input, maxBuffer: 256 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${path.basename(command)} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stderr}\n${result.stdout}`.slice(0, 4000));
  }
  return result.stdout;
}

/** The dbfast CLI as a user runs it: a fresh `node bin/dbfast.js` process. */
export function dbfast(args: readonly string[], options: RunOptions = {}): string {
  return run(process.execPath, [CLI, ...args], { ...options, env: { ...process.env, NO_COLOR: '1', ...options.env } });
}

export async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}

/**
 * Lets the server and the disk catch up before the next timed step: DROP DATABASE (of the
 * previous run's clones) leaves the kernel writing back and unlinking thousands of files, and
 * whichever side runs next would pay for it.
 */
export async function settle(admin: pg.Client): Promise<void> {
  await admin.query('CHECKPOINT');
  spawnSync('sync');
}

export function urlFor(serverUrl: string, database: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '—';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 * 1024 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** "runs ranged ..." when a side's slowest run took over twice its fastest: the median is then a rough figure. */
export function spreadNote(row: BenchRow): string | undefined {
  const sides = [
    ['dbfast', row.samples?.dbfast ?? []],
    ['baseline', row.samples?.baseline ?? []],
  ] as const;
  const noisy = sides.filter(([, values]) => values.length > 1 && Math.max(...values) > 2 * Math.min(...values));
  if (noisy.length === 0) return undefined;
  return `noisy, runs ranged ${noisy.map(([side, values]) => `${side} ${formatMs(Math.min(...values))}–${formatMs(Math.max(...values))}`).join(', ')}`;
}

function resultCell(e: Evaluated): string {
  return e.pass === null ? 'n/a' : e.pass ? 'pass' : '**MISSED**';
}

/** A markdown table: case, dbfast, baseline, ratio, target, pass/fail (and subject, note when present). */
export function formatTable(rows: readonly BenchRow[]): string {
  const withSubject = rows.some((row) => row.subject);
  const notes = rows.map((row) => [row.note, spreadNote(row)].filter(Boolean).join('; '));
  const withNote = notes.some(Boolean);
  const header = [...(withSubject ? ['subject'] : []), 'case', 'dbfast', 'baseline', 'ratio', 'target', 'result', ...(withNote ? ['note'] : [])];
  const align = [...(withSubject ? ['---'] : []), '---', '---:', '---:', '---:', '---', '---', ...(withNote ? ['---'] : [])];
  const lines = [`| ${header.join(' | ')} |`, `|${align.join('|')}|`];
  for (const [index, row] of rows.entries()) {
    const e = evaluate(row);
    const baseline = row.baselineMs === null ? row.baseline || '—' : `${formatMs(row.baselineMs)} (${row.baseline})`;
    const cells = [
      ...(withSubject ? [row.subject ?? ''] : []),
      row.case,
      row.peakRssMiB === undefined ? formatMs(row.dbfastMs) : `${row.peakRssMiB.toFixed(0)} MiB`,
      baseline,
      e.ratio === null ? '—' : `${e.ratio.toFixed(2)}×`,
      row.target,
      resultCell(e),
      ...(withNote ? [notes[index] ?? ''] : []),
    ];
    lines.push(`| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`);
  }
  return lines.join('\n');
}

function tryRun(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** What the numbers were measured on. */
export function machineLine(serverVersion?: string): string {
  const cpu = os.cpus()[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const psql = tryRun('psql', ['--version']) ?? 'psql not on PATH';
  const server = serverVersion ? `, server PostgreSQL ${serverVersion}` : '';
  return `machine: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${os.platform()} ${os.release()}; node ${process.version}; ${psql}${server}; load average ${os.loadavg().map((n) => n.toFixed(1)).join(' ')}`;
}
