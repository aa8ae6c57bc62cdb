/**
 * Not a test: a manual benchmark of the SQL runner against `psql -X -1 -f`, interleaved round by
 * round into fresh databases on the same server. Run it with
 *
 *   npx tsc -p tsconfig.build.json
 *   npx tsx tests/sql/bench/compare-psql.ts POSTGRES_ADMIN_URL ROUNDS FILE...
 *
 * e.g. `... 'postgresql://postgres@localhost:5432/postgres' 9 ../shared/realworld/pagila/pagila-schema.sql ../shared/realworld/pagila/pagila-data.sql`.
 * Modes (MODES=psql1,single,none,process): psql1 = `psql -X -q -1 -f FILE...`; single / none =
 * `runFiles` in this process with that transaction mode; process = a fresh `node` process running
 * the built runner (node start-up, imports and connecting included, as a CLI pays them).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { targetFromUrl } from '../../../src/pg/target.js';
import { quoteIdent } from '../../../src/pg/quote.js';
import { runFiles, type TransactionMode } from '../../../src/sql/index.js';

const [adminUrl, roundsText, ...files] = process.argv.slice(2);
if (!adminUrl || !roundsText || files.length === 0) {
  console.error('usage: tsx tests/sql/bench/compare-psql.ts POSTGRES_ADMIN_URL ROUNDS FILE...');
  process.exit(2);
}
const absolute = files.map((file) => path.resolve(file));
const modes = (process.env.MODES ?? 'psql1,single,none,process').split(',');
const distIndex = fileURLToPath(new URL('../../../dist/sql/index.js', import.meta.url));
const distPg = fileURLToPath(new URL('../../../dist/pg/target.js', import.meta.url));
const child = path.join(os.tmpdir(), `dbfast-bench-${process.pid}.mjs`);
writeFileSync(
  child,
  `const [url, ...files] = process.argv.slice(2);
const { runFiles } = await import(${JSON.stringify(distIndex)});
const { targetFromUrl } = await import(${JSON.stringify(distPg)});
await runFiles(files.map((f) => ({ relativePath: f, absolutePath: f })), { target: targetFromUrl(url) });
`,
);

function urlFor(database: string): string {
  const url = new URL(adminUrl as string);
  url.pathname = `/${database}`;
  return url.toString();
}

const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const times = new Map<string, number[]>(modes.map((mode) => [mode, []]));
for (let round = 0; round < Number(roundsText); round++) {
  for (const mode of modes) {
    const database = `dbfast_bench_${mode}_${process.pid}`;
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
    const url = urlFor(database);
    const started = performance.now();
    if (mode === 'psql1') {
      execFileSync('psql', ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', ...absolute.flatMap((file) => ['-f', file]), url], { stdio: ['ignore', 'ignore', 'inherit'] });
    } else if (mode === 'process') {
      execFileSync(process.execPath, [child, url, ...absolute], { stdio: ['ignore', 'ignore', 'inherit'] });
    } else {
      const sqlFiles = absolute.map((file) => ({ relativePath: path.basename(file), absolutePath: file }));
      await runFiles(sqlFiles, { target: targetFromUrl(url), transaction: mode as TransactionMode });
    }
    times.get(mode)?.push(performance.now() - started);
    await admin.query(`DROP DATABASE ${quoteIdent(database)}`);
  }
}
await admin.end();

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const base = median(times.get(modes[0] as string) ?? []);
console.log(`${files.length} file(s), ${roundsText} rounds; ratio against ${modes[0]}`);
for (const [mode, values] of times) {
  const m = median(values);
  console.log(`${mode.padEnd(8)} median ${m.toFixed(0).padStart(7)} ms  ${(m / base).toFixed(2)}x   min ${Math.min(...values).toFixed(0)} ms`);
}
