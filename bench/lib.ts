import { execFileSync, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import pg from 'pg';

export interface BenchRow {
  suite: string;
  case: string;
  dbfastMs: number;
  baselineMs: number;
  baseline: string;
  target: string;
  /** Extra columns: sizes, memory, notes. */
  note?: string;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Runs both sides alternately `runs` times so drift on a noisy machine hits both equally. */
export async function compare(
  runs: number,
  dbfast: (run: number) => Promise<unknown> | unknown,
  baseline: (run: number) => Promise<unknown> | unknown,
  prepare?: (run: number) => Promise<unknown> | unknown,
): Promise<{ dbfastMs: number; baselineMs: number }> {
  const a: number[] = [];
  const b: number[] = [];
  for (let run = 0; run < runs; run++) {
    await prepare?.(run);
    if (run % 2 === 0) {
      a.push(await timeIt(() => dbfast(run)));
      b.push(await timeIt(() => baseline(run)));
    } else {
      b.push(await timeIt(() => baseline(run)));
      a.push(await timeIt(() => dbfast(run)));
    }
  }
  return { dbfastMs: median(a), baselineMs: median(b) };
}

export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, input?: string): string {
  const result = spawnSync(command, args, { env, encoding: 'utf8', input, maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}\n${result.stdout}`.slice(0, 4000));
  }
  return result.stdout;
}

export async function sql(url: string, text: string): Promise<pg.QueryResult[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query(text);
    return Array.isArray(result) ? result : [result];
  } finally {
    await client.end();
  }
}

export function urlFor(serverUrl: string, database: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export function ratio(row: BenchRow): number {
  return row.dbfastMs / row.baselineMs;
}

export function formatTable(rows: BenchRow[]): string {
  const lines = [
    '| suite | case | dbfast | baseline | ratio | target |',
    '|---|---|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const r = ratio(row);
    lines.push(
      `| ${row.suite} | ${row.case} | ${row.dbfastMs.toFixed(1)} ms | ${row.baselineMs.toFixed(1)} ms (${row.baseline}) | ${r.toFixed(2)}× | ${row.target}${row.note ? `; ${row.note}` : ''} |`,
    );
  }
  return lines.join('\n');
}

export function machineLine(): string {
  const cpu = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const psql = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  return `node ${process.version}, ${cpu} cores, ${psql}`;
}
