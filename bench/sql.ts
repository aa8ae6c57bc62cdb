/**
 * SQL runner suite (issue 9, item 15): the in-process runner streams files, so its memory stays
 * bounded whatever their size. A generated file of single-row INSERTs (200 MB by default,
 * `--sql-mb N`), each side into an empty database in the same run, alternating:
 *   in-process runner (a process of its own)  vs  psql -X -q -1 -f FILE     target ≤ 1.0×
 *   peak RSS of that process                                                 target ≤ 256 MiB
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { compare, formatBytes, formatMs, median, quoteIdent, ROOT, run, settle, urlFor, type BenchRow } from './lib.js';
import type { SuiteContext, SuiteReport } from './suite.js';

/** Writes `megabytes` of single-row INSERTs (the shape that made the old runner hold 16× the file). */
export async function generateInsertFile(file: string, megabytes: number): Promise<number> {
  const out = createWriteStream(file);
  const target = megabytes * 1024 * 1024;
  let bytes = 0;
  let rows = 0;
  const write = (text: string): Promise<void> | undefined => (out.write(text) ? undefined : new Promise((resolve) => out.once('drain', () => resolve())));
  await write('CREATE TABLE bench_inserts (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(12,2), note text);\n');
  while (bytes < target) {
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      rows++;
      lines.push(`INSERT INTO bench_inserts VALUES (${rows}, 'name-${rows}-ü', ${(rows % 10000) / 100}, 'note ${'x'.repeat(rows % 40)}');\n`);
    }
    const text = lines.join('');
    bytes += Buffer.byteLength(text);
    await write(text);
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return rows;
}

/** A node process that runs the built runner on one file and reports its time and peak resident size. */
function writeChild(workDir: string): string {
  const child = path.join(workDir, 'run-sql.mjs');
  writeFileSync(
    child,
    `const [url, file] = process.argv.slice(2);
const { runFiles } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'sql', 'index.js'))});
const { targetFromUrl } = await import(${JSON.stringify(path.join(ROOT, 'dist', 'pg', 'target.js'))});
const result = await runFiles([{ relativePath: 'inserts.sql', absolutePath: file }], { target: targetFromUrl(url) });
console.log(JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS }));
`,
  );
  return child;
}

export async function sqlSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const clusters = await ctx.clusters();
  const megabytes = ctx.options.sqlMegabytes;
  const file = path.join(ctx.workDir, 'inserts.sql');
  ctx.log(`sql: writing ${megabytes} MB of single-row INSERTs`);
  const rows = await generateInsertFile(file, megabytes);
  const size = statSync(file).size;
  const child = writeChild(ctx.workDir);
  const psql = path.join(clusters.binDir, 'psql');
  const server = clusters.local.adminUrl;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  const ours = 'bench_sql_inprocess';
  const theirs = 'bench_sql_psql';
  const rss: number[] = [];
  // Each side loads the whole file: a few minutes a run, so fewer runs than the other suites.
  const runs = Math.min(ctx.options.runs, 2);
  try {
    const measured = await compare(runs, {
      prepare: async () => {
        for (const name of [ours, theirs]) {
          await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
          await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
        }
        await settle(admin);
      },
      dbfast: () => {
        const result = spawnSync(process.execPath, [child, urlFor(server, ours), file], { encoding: 'utf8', maxBuffer: 1 << 20 });
        if (result.status !== 0) throw new Error(`the in-process runner failed:\n${result.stderr}`);
        const report = JSON.parse(result.stdout.trim().split('\n').pop() as string) as { statements: number; maxRssKiB: number };
        if (report.statements !== rows + 1) throw new Error(`the in-process runner ran ${report.statements} statements, not ${rows + 1}`);
        rss.push(report.maxRssKiB / 1024);
      },
      baseline: () => run(psql, ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-f', file, '-d', urlFor(server, theirs)]),
      report: (i, a, b) => ctx.log(`  sql run ${i + 1}: in-process ${formatMs(a)} (peak RSS ${rss[i]?.toFixed(0)} MiB), psql ${formatMs(b)}`),
    });
    const peak = Math.max(...rss);
    const subject = `${formatBytes(size)} of single-row INSERTs (${rows.toLocaleString('en')} statements)`;
    const result: BenchRow[] = [
      { suite: 'sql', subject, case: 'in-process runner (own process)', ...measured, baseline: 'psql -X -q -1 -f', target: '≤ 1.0×', note: `peak RSS ${peak.toFixed(0)} MiB` },
      {
        suite: 'sql', subject, case: 'peak RSS of the in-process runner', dbfastMs: median(measured.samples.dbfast), baselineMs: null, baseline: '',
        target: '≤ 256 MiB', peakRssMiB: peak, note: `whatever the file size: it streams (runs: ${rss.map((value) => value.toFixed(0)).join(', ')} MiB)`,
      },
    ];
    return { suite: 'sql', title: 'SQL runner: large files', rows: result, data: { rows, bytes: size, peakRssMiB: rss } };
  } finally {
    for (const name of [ours, theirs]) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}
