/**
 * Pool suite (issue 13), every figure measured in this run:
 *   pool keeps up      100 leases, 2 workers, ~300 ms of writing work each, size 4: lease() p50/p95/p99/max
 *   read-only tests    200 leases with a SELECT each, back to back: lease() p50/p95/p99/max, how many were recycled
 *                      (both against CREATE DATABASE ... TEMPLATE per test, as `createdb -T` does, in the same
 *                      workload; each run's percentile, median over the runs)
 *   cannot keep up     200 tests of ~10 ms that write, 4 workers: suite wall time, pool vs a clone per test
 *   seed (CLI)         `dbfast seed` with a warm pool vs psql CREATE DATABASE at ~25 MiB and ~250 MiB
 *   vitest             50 test files, each with a database of its own: pool vs a clone per file (pool-vitest.ts)
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type * as Api from '../src/index.js';
import { generateDataRepository, generateDeployRepository } from './generate.js';
import { compare, dbfast, formatBytes, formatMs, median, quoteIdent, ROOT, run, settle, timeIt, urlFor, type BenchRow } from './lib.js';
import { benchVitest } from './pool-vitest.js';
import { writeProject, type BenchProject } from './project.js';
import type { SuiteContext, SuiteReport } from './suite.js';

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A test's database work: connect, write a row, keep the database busy for `ms` in all, disconnect. */
async function writingWork(url: string, ms: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const started = performance.now();
  await client.query('INSERT INTO bench.t0 (id, name, amount, created_at) VALUES (-1, $1, 1, now())', ['bench']);
  const left = ms - (performance.now() - started);
  if (left > 0) await client.query('SELECT pg_sleep($1)', [left / 1000]);
  await client.end();
}

async function readingWork(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('SELECT count(*) FROM bench.t0');
  await client.end();
}

/** Runs `total` tests on `workers` concurrent loops; returns every lease() time and the wall time. */
async function drive(workers: number, total: number, test: (worker: number) => Promise<number>): Promise<{ leaseMs: number[]; wallMs: number }> {
  const leaseMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (next < total) {
        next++;
        leaseMs.push(await test(worker));
      }
    }),
  );
  return { leaseMs, wallMs: performance.now() - started };
}

const PERCENTILES = [
  ['p50', (values: readonly number[]) => percentile(values, 50)],
  ['p95', (values: readonly number[]) => percentile(values, 95)],
  ['p99', (values: readonly number[]) => percentile(values, 99)],
  ['max', (values: readonly number[]) => Math.max(...values)],
] as const;

/**
 * One row per percentile: each run's percentile of lease() times, then the median over the runs;
 * the baseline is the same percentile of `CREATE DATABASE x TEMPLATE t` (what `createdb -T`
 * sends) timed per test in the same workload.
 */
function percentileRows(scenario: string, pool: number[][], clone: number[][], targets: { p95?: string; max?: string }, note: string): BenchRow[] {
  return PERCENTILES.map(([label, of]) => {
    const ours = pool.map((run) => of(run));
    const theirs = clone.map((run) => of(run));
    return {
      suite: 'pool',
      case: `${scenario}: lease() ${label}`,
      dbfastMs: median(ours),
      baselineMs: median(theirs),
      baseline: 'CREATE DATABASE x TEMPLATE t per test (createdb -T)',
      target: label === 'p95' ? (targets.p95 ?? '') : label === 'max' ? (targets.max ?? '') : '',
      note: `${note}; median of ${pool.length} runs`,
      samples: { dbfast: ours, baseline: theirs },
    };
  });
}

/** The baseline of a scenario: every test clones the template itself (timed) and drops its clone after the work (not timed). */
async function clonePerTest(serverUrl: string, template: string, workers: number, total: number, work: (url: string) => Promise<void>, tag: string): Promise<number[]> {
  const clients = await Promise.all(
    Array.from({ length: workers }, async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      return client;
    }),
  );
  let n = 0;
  try {
    const { leaseMs } = await drive(workers, total, async (worker) => {
      const client = clients[worker] as pg.Client;
      const name = `bench_pct_${tag}_${n++}`;
      const started = performance.now();
      await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
      const ms = performance.now() - started;
      await work(urlFor(serverUrl, name));
      await client.query(`DROP DATABASE ${quoteIdent(name)} WITH (FORCE)`);
      return ms;
    });
    return leaseMs;
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

/**
 * `SELECT 1` from a session of its own every 10 ms until `stop` resolves: the server's round trip
 * under the same load, the floor of any lease() that asks the server anything.
 */
async function probeRoundTrips(serverUrl: string, stop: Promise<unknown>): Promise<number[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  let done = false;
  void stop.finally(() => (done = true));
  const times: number[] = [];
  try {
    while (!done) {
      const started = performance.now();
      await client.query('SELECT 1');
      times.push(performance.now() - started);
      await sleep(10);
    }
  } finally {
    await client.end();
  }
  return times;
}

/** One scenario on the pool: lease(), the test's work, release(); returns the lease() times, the pool's counters and the server's round trips meanwhile. */
async function onPool(api: typeof Api, configPath: string, serverUrl: string, size: number, workers: number, total: number, work: (url: string) => Promise<void>): Promise<{ leaseMs: number[]; stats: Api.PoolStats; wallMs: number; roundTripMs: number[] }> {
  const pool = await api.createPool({ configPath, size, maxClones: 64 });
  const driving = drive(workers, total, async () => {
    const started = performance.now();
    const lease = await pool.lease();
    const ms = performance.now() - started;
    await work(lease.url);
    await lease.release();
    return ms;
  });
  const [result, roundTripMs] = await Promise.all([driving, probeRoundTrips(serverUrl, driving)]);
  const stats = pool.stats();
  await pool.close({ drain: true });
  return { ...result, stats, roundTripMs };
}

async function libraryScenarios(ctx: SuiteContext, api: typeof Api, project: BenchProject, admin: pg.Client, serverUrl: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const configPath = project.configPath;
  const runs = Math.min(ctx.options.runs, 3);
  const wanted = (key: string): boolean => ctx.options.poolCases.length === 0 || ctx.options.poolCases.includes(key);
  const scenarios = [
    { key: 'keeps', label: 'pool keeps up (100 × ~300 ms writing tests, 2 workers, size 4)', size: 4, workers: 2, total: 100, work: (url: string) => writingWork(url, 300), targets: { p95: '≤ 1 ms', max: '≤ 50 ms' } },
    { key: 'read', label: 'read-only (200 × SELECT, back to back, size 2)', size: 2, workers: 1, total: 200, work: readingWork, targets: { p95: '≤ 1 ms' } },
  ].filter((scenario) => wanted(scenario.key));
  for (const scenario of scenarios) {
    const pool: number[][] = [];
    const clone: number[][] = [];
    const notes: string[] = [];
    const floor: number[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate which side goes first, so neither always runs on a machine the other warmed.
      for (const side of i % 2 === 0 ? ['pool', 'clone'] : ['clone', 'pool']) {
        await settle(admin);
        if (side === 'pool') {
          const result = await onPool(api, configPath, serverUrl, scenario.size, scenario.workers, scenario.total, scenario.work);
          pool.push(result.leaseMs);
          floor.push(percentile(result.roundTripMs, 95));
          notes.push(scenario.key === 'read' ? `${result.stats.recycled} recycled` : `${result.stats.created} clones made`);
        } else {
          clone.push(await clonePerTest(serverUrl, project.template, scenario.workers, scenario.total, scenario.work, `${scenario.key}_${i}`));
        }
      }
      ctx.log(`  ${scenario.key} run ${i + 1}: lease() p95 ${formatMs(percentile(pool.at(-1) ?? [], 95))}, clone p95 ${formatMs(percentile(clone.at(-1) ?? [], 95))}, SELECT 1 p95 ${formatMs(floor.at(-1) ?? 0)} (${notes.at(-1)})`);
    }
    const floorNote = `SELECT 1 from another session meanwhile: p95 ${floor.map((ms) => formatMs(ms)).join(', ')}`;
    rows.push(...percentileRows(scenario.label, pool, clone, scenario.targets, `per run: ${notes.join(', ')} of ${scenario.total}; ${floorNote}`));
  }

  // Cannot keep up: 200 short writing tests on 4 workers, against a clone (and a drop) per test.
  if (!wanted('busy')) return rows;
  const poolWall: number[] = [];
  const cloneWall: number[] = [];
  const poolLeases: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const side of i % 2 === 0 ? ['pool', 'clone'] : ['clone', 'pool']) {
      await settle(admin);
      if (side === 'pool') {
        const wall = await timeIt(async () => {
          const busy = await api.createPool({ configPath, size: 4, maxClones: 64 });
          const result = await drive(4, 200, async () => {
            const started = performance.now();
            const lease = await busy.lease();
            const ms = performance.now() - started;
            await writingWork(lease.url, 10);
            await lease.release();
            return ms;
          });
          poolLeases.push(...result.leaseMs);
          // The drops it deferred are part of its cost.
          await busy.close({ drain: true });
        });
        poolWall.push(wall);
      } else {
        let n = 0;
        // Each worker drops its clones over a connection of its own, as each test runner process would.
        const droppers = await Promise.all([0, 1, 2, 3].map(async () => {
          const client = new pg.Client({ connectionString: serverUrl });
          await client.connect();
          return client;
        }));
        cloneWall.push(
          await timeIt(() =>
            drive(4, 200, async (worker) => {
              const name = `bench_clone_${i}_${n++}`;
              const started = performance.now();
              await api.seed({ configPath, output: name, pool: false });
              const ms = performance.now() - started;
              await writingWork(urlFor(serverUrl, name), 10);
              await (droppers[worker] as pg.Client).query(`DROP DATABASE ${quoteIdent(name)} WITH (FORCE)`);
              return ms;
            }),
          ),
        );
        await Promise.all(droppers.map((client) => client.end()));
      }
      ctx.log(`  cannot keep up run ${i + 1} ${side}: ${formatMs((side === 'pool' ? poolWall : cloneWall).at(-1) ?? 0)}`);
    }
  }
  rows.push({
    suite: 'pool',
    case: 'pool cannot keep up (200 × ~10 ms writing tests, 4 workers, size 4): suite wall time',
    dbfastMs: median(poolWall),
    baselineMs: median(cloneWall),
    baseline: 'seed() + DROP DATABASE per test, 4 workers',
    target: '≤ 1.0×',
    note: `lease() p50 ${formatMs(percentile(poolLeases, 50))}, p95 ${formatMs(percentile(poolLeases, 95))}, max ${formatMs(Math.max(...poolLeases))}; median of ${runs}`,
    samples: { dbfast: poolWall, baseline: cloneWall },
  });
  return rows;
}

/** Waits until the background refill a seed started has made the next ready database. */
async function warm(cli: (...args: string[]) => string, size: number): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const status = JSON.parse(cli('--json', 'pool', 'status')) as { making: number; environments: Array<{ ready: number }> };
    if ((status.environments[0]?.ready ?? 0) >= size && status.making === 0) return;
    await sleep(250);
  }
  throw new Error('the pool never became warm');
}

async function seedRow(ctx: SuiteContext, admin: pg.Client, psql: string, project: BenchProject, serverUrl: string, label: string, target: string): Promise<BenchRow> {
  const cli = (...args: string[]): string => dbfast(['--config', project.configPath, ...args]);
  cli('build');
  const size = Number(((await admin.query('SELECT pg_database_size($1) AS size', [project.template])).rows[0] as { size: string }).size);
  cli('pool', 'fill');
  const runs = ctx.options.runs;
  const ours = (i: number): string => `bench_pooled_${label}_${i}`;
  const theirs = (i: number): string => `bench_psql_${label}_${i}`;
  const seeded = await compare(runs, {
    prepare: async () => {
      await warm(cli, 1);
      await settle(admin);
    },
    dbfast: (i) => {
      const result = JSON.parse(cli('--json', 'seed', '--output', ours(i))) as { fromPool: boolean };
      if (!result.fromPool) throw new Error('seed did not take its database from the pool');
    },
    baseline: (i) => run(psql, ['-X', '-q', '-d', serverUrl, '-c', `CREATE DATABASE ${quoteIdent(theirs(i))} TEMPLATE ${quoteIdent(project.template)}`]),
    cleanup: async (i) => {
      await warm(cli, 1);
      for (const name of [ours(i), theirs(i)]) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
    },
    report: (i, a, b) => ctx.log(`  seed ${label} run ${i + 1}: dbfast ${formatMs(a)}, psql ${formatMs(b)}`),
  });
  cli('pool', 'drain');
  return {
    suite: 'pool',
    case: `seed (CLI) with a warm pool, template ${formatBytes(size)}`,
    ...seeded,
    baseline: "psql -X -c 'CREATE DATABASE x TEMPLATE t'",
    target,
    note: 'the refill a seed leaves in the background finishes before the next run',
  };
}

export async function poolSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const clusters = await ctx.clusters();
  const api = (await import(pathToFileURL(path.join(ROOT, 'dist', 'index.js')).href)) as typeof Api;
  const admin = new pg.Client({ connectionString: clusters.local.adminUrl });
  await admin.connect();
  const psql = path.join(clusters.binDir, 'psql');
  const project = (key: string, create: (dir: string) => void): BenchProject => {
    const dir = path.join(ctx.workDir, key);
    create(path.join(dir, 'db'));
    return writeProject({ dir, serverUrl: clusters.local.adminUrl, templateName: `bench_${key}`, environment: 'local', repository: path.join(dir, 'db'), pgBinDir: clusters.binDir });
  };
  try {
    const rows: BenchRow[] = [];
    const small = project('pool_small', (dir) => generateDataRepository(dir, { rowsPerTable: 800 }));
    dbfast(['--config', small.configPath, 'build']);
    const wanted = (key: string): boolean => ctx.options.poolCases.length === 0 || ctx.options.poolCases.includes(key);
    ctx.log('pool: library scenarios');
    rows.push(...(await libraryScenarios(ctx, api, small, admin, clusters.local.adminUrl)));
    if (wanted('seed')) {
      ctx.log('pool: seed with a warm pool');
      rows.push(await seedRow(ctx, admin, psql, project('pool_25', (dir) => generateDataRepository(dir)), clusters.local.adminUrl, '25', '≤ 1.0×'));
      rows.push(await seedRow(ctx, admin, psql, project('pool_250', (dir) => generateDeployRepository(dir, 2_000_000)), clusters.local.adminUrl, '250', '≤ 0.3×'));
    }
    if (wanted('vitest')) {
      ctx.log('pool: vitest, 50 files');
      rows.push(await benchVitest(ctx, api, small));
    }
    return { suite: 'pool', title: 'Warm pool (createPool, dbfast seed from the pool)', rows };
  } finally {
    await admin.end().catch(() => undefined);
  }
}
