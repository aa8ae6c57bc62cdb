/**
 * `npm run bench [-- options]`: builds, then runs the benchmark suites on throwaway clusters of
 * its own and prints one markdown table per suite (stdout; progress goes to stderr).
 *
 *   --only seed,pool       suites to run (seed, deploy, server, watch, pool, sql; strategy, postgrest on request) (default: all registered but `strategy`, the seed suite's
 *                          WAL_LOG / FILE_COPY crossover on its own, and `postgrest`, PostgREST's
 *                          test database loaded by psql and both runners, dumps compared)
 *   --runs N               runs per row, medians reported (default 5)
 *   --path DIR             also measure the seed suite on this repository (its .sql files, natural order)
 *   --rows N               rows in the deploy suite's template (default 2,000,000)
 *   --deploy-runs N        deploys per side in the deploy suite (default 3)
 *   --sizes 8,32,...       template sizes (MiB) for the WAL_LOG / FILE_COPY crossover; "none" skips it
 *   --sql-mb N             size of the sql suite's generated file of single-row INSERTs (default 200)
 *   --pool-cases keeps,read,busy,seed,vitest   the pool suite's scenarios to run (default: all)
 *   --fsync-off            run the clusters with fsync, synchronous_commit, full_page_writes off
 *   --json FILE            also write every result (and each run's time) to FILE
 *
 * It is a measurement: a missed target is printed as MISSED, and the exit code stays 0.
 * Exit 1 only when a suite could not run; 2 for bad options.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchClusters, stopBenchClusters, type BenchClusters } from './clusters.js';
import { evaluate, formatTable, machineLine, ROOT } from './lib.js';
import type { BenchOptions, Suite, SuiteContext, SuiteReport } from './suite.js';

const SUITES: Record<string, Suite> = {
  seed: (ctx) => import('./seed.js').then((m) => m.seedSuite(ctx)),
  deploy: (ctx) => import('./deploy.js').then((m) => m.deploySuite(ctx)),
  server: (ctx) => import('./server.js').then((m) => m.serverSuite(ctx)),
  watch: (ctx) => import('./watch.js').then((m) => m.watchSuite(ctx)),
  // The crossover alone (the seed suite measures it too); not run by default.
  strategy: (ctx) => import('./seed.js').then((m) => m.strategySuite(ctx)),
  pool: (ctx) => import('./pool.js').then((m) => m.poolSuite(ctx)),
  sql: (ctx) => import('./sql.js').then((m) => m.sqlSuite(ctx)),
  // Real SQL (needs PostGIS on the server): not run by default.
  postgrest: (ctx) => import('./postgrest.js').then((m) => m.postgrestSuite(ctx)),
  backup: (ctx) => import('./backup.js').then(async (m) => ({ suite: 'backup', title: 'Backups', rows: await m.benchBackup({ runs: Math.min(ctx.options.runs, 3), rows: ctx.options.rows, log: ctx.log }) })),
};

/** Suites run only when named in --only. */
const ON_REQUEST = new Set(['strategy', 'postgrest']);

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\nusage: npm run bench -- [--only ${Object.keys(SUITES).join(',')}] [--runs N] [--path DIR] [--rows N] [--deploy-runs N] [--sizes 8,32,64] [--sql-mb N] [--pool-cases keeps,read,busy,seed,vitest] [--fsync-off] [--json FILE]\n`);
  process.exit(2);
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) usage(`--${name} takes a whole number ≥ 1, not "${value}"`);
  return n;
}

const POOL_CASES = ['keeps', 'read', 'busy', 'seed', 'vitest'];

function poolCases(value: string | undefined): string[] {
  const cases = (value ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of cases) if (!POOL_CASES.includes(name)) usage(`unknown pool case "${name}" (available: ${POOL_CASES.join(', ')})`);
  return cases;
}

function parseOptions(): { options: BenchOptions; suites: string[]; json: string | undefined } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        only: { type: 'string' },
        runs: { type: 'string' },
        path: { type: 'string' },
        rows: { type: 'string' },
        'deploy-runs': { type: 'string' },
        sizes: { type: 'string' },
        'sql-mb': { type: 'string' },
        'pool-cases': { type: 'string' },
        'fsync-off': { type: 'boolean' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    usage((error as Error).message);
  }
  if (values.help) usage('measures dbfast against psql / pg_dump baselines');
  const suites = values.only ? values.only.split(',').map((name) => name.trim()).filter(Boolean) : Object.keys(SUITES).filter((name) => !ON_REQUEST.has(name));
  for (const name of suites) if (!SUITES[name]) usage(`unknown suite "${name}" (available: ${Object.keys(SUITES).join(', ')})`);
  const sizes = values.sizes === 'none' ? [] : (values.sizes ?? '8,32,64,128,256').split(',').map((size) => positive('sizes', size.trim(), 0));
  if (values.path && !existsSync(values.path)) usage(`--path ${values.path} does not exist`);
  return {
    suites,
    json: values.json,
    options: {
      runs: positive('runs', values.runs, 5),
      path: values.path,
      rows: positive('rows', values.rows, 2_000_000),
      deployRuns: positive('deploy-runs', values['deploy-runs'], 3),
      sizes,
      fsync: values['fsync-off'] !== true,
      sqlMegabytes: positive('sql-mb', values['sql-mb'], 200),
      poolCases: poolCases(values['pool-cases']),
    },
  };
}

function render(reports: readonly SuiteReport[], clusters: BenchClusters | undefined, options: BenchOptions): string {
  const out: string[] = [];
  for (const report of reports) {
    out.push(`## ${report.title} (\`${report.suite}\`)`, '', formatTable(report.rows), '');
    for (const section of report.sections ?? []) out.push(`### ${section.title}`, '', section.markdown, '');
  }
  const settings = clusters ? `; bench clusters with fsync ${clusters.fsync ? 'on (PostgreSQL defaults)' : 'off'}` : '';
  out.push(`${machineLine(clusters?.serverVersion)}${settings}; medians of ${options.runs} runs unless stated`);
  const missed = reports.flatMap((report) => report.rows.filter((row) => evaluate(row).pass === false).map((row) => `${report.suite}: ${row.subject ? `${row.subject}: ` : ''}${row.case} (${row.target})`));
  out.push('', missed.length === 0 ? 'All targets met.' : `MISSED ${missed.length} target${missed.length === 1 ? '' : 's'}:\n${missed.map((line) => `  MISSED ${line}`).join('\n')}`);
  return out.join('\n');
}

async function main(): Promise<number> {
  const { options, suites, json } = parseOptions();
  if (!existsSync(path.join(ROOT, 'dist', 'index.js')) || !existsSync(path.join(ROOT, 'dist', 'cli-bundle', 'main.js'))) {
    usage('dist/ is missing: run `npm run build` first (`npm run bench` does)');
  }
  const workRoot = mkdtempSync(path.join(os.tmpdir(), 'dbfast-bench-'));
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  let clusters: Promise<BenchClusters> | undefined;
  const shutdown = (): void => {
    stopBenchClusters();
    rmSync(workRoot, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      log(`\ninterrupted (${signal}): stopping the bench clusters`);
      shutdown();
      process.exit(130);
    });
  }
  process.on('exit', shutdown);

  const reports: SuiteReport[] = [];
  let failed = false;
  try {
    for (const name of suites) {
      const ctx: SuiteContext = {
        options,
        workDir: mkdtempSync(path.join(workRoot, `${name}-`)),
        log,
        clusters: () => (clusters ??= startBenchClusters({ fsync: options.fsync, log })),
      };
      log(`== suite ${name}`);
      try {
        const report = await (SUITES[name] as Suite)(ctx);
        reports.push(report);
        log(formatTable(report.rows));
      } catch (error) {
        failed = true;
        log(`suite ${name} could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      } finally {
        rmSync(ctx.workDir, { recursive: true, force: true });
      }
    }
    const started = clusters ? await clusters.catch(() => undefined) : undefined;
    process.stdout.write(`${render(reports, started, options)}\n`);
    if (json) {
      const results = reports.map((report) => ({ ...report, rows: report.rows.map((row) => ({ ...row, ...evaluate(row) })) }));
      writeFileSync(json, `${JSON.stringify({ machine: machineLine(started?.serverVersion), options, suites: results }, null, 2)}\n`);
      log(`results written to ${json}`);
    }
  } finally {
    shutdown();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
