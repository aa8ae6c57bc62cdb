/**
 * Seed suite (issue 3): per repository, each row a median of `--runs` runs measured in the same
 * run against its baseline, in alternating order:
 *   build --force (CLI)  vs  psql -X -1 -f FILE... into an empty database      target ≤ 1.0×
 *   seed (CLI)           vs  psql -X -c 'CREATE DATABASE x TEMPLATE t'          target ≤ 2.0×
 *   seed() (library)     vs  CREATE DATABASE on an open connection              target ≤ 1.1×
 *   status() (library) on 1,000 unchanged files                                 target ≤ 50 ms
 * then the WAL_LOG / FILE_COPY crossover (crossover.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type * as Api from '../src/index.js';
import type * as Strategy from '../src/local/strategy.js';
import type { BenchClusters } from './clusters.js';
import { measureCrossover } from './crossover.js';
import { BENCH_LAYERS, generateDataRepository, generateManyFilesRepository, pagilaRepository } from './generate.js';
import { rebuildRow, settleBackground } from './layers.js';
import { CLI, compare, dbfast, formatBytes, formatMs, median, quoteIdent, ROOT, run, settle, timeIt, urlFor, type BenchRow } from './lib.js';
import { writeProject, type BenchProject } from './project.js';
import type { SuiteContext, SuiteReport } from './suite.js';

interface Repository {
  key: string;
  label: string;
  /** Writes the repository (or points at one) and returns its folder. */
  create(dir: string): string;
  staleness: boolean;
  /** `layers = ...` for the environment ('' = the default, one layer per top-level folder). */
  layers: string;
}

const PAGILA = path.resolve(ROOT, '..', 'shared', 'realworld', 'pagila');

function repositories(ctx: SuiteContext): Repository[] {
  const list: Repository[] = [
    { key: 'data', label: 'generated: 12 tables, 96k rows as COPY', create: (dir) => (generateDataRepository(dir), dir), staleness: false, layers: BENCH_LAYERS.data },
    { key: 'files', label: 'generated: 1,000 small files', create: (dir) => (generateManyFilesRepository(dir), dir), staleness: true, layers: BENCH_LAYERS.files },
  ];
  if (existsSync(path.join(PAGILA, 'pagila-schema.sql'))) {
    list.push({ key: 'pagila', label: 'pagila (realworld), schema / data / test layers', create: (dir) => (pagilaRepository(PAGILA, dir), dir), staleness: false, layers: BENCH_LAYERS.pagila });
  } else {
    ctx.log(`pagila not found at ${PAGILA}; skipping it (pass --path DIR for any repository)`);
  }
  if (ctx.options.path) {
    const given = path.resolve(ctx.options.path);
    list.push({ key: 'path', label: path.basename(given), create: () => given, staleness: false, layers: '' });
  }
  return list;
}

interface Tools {
  clusters: BenchClusters;
  api: typeof Api;
  strategy: typeof Strategy;
  admin: pg.Client;
  psql: string;
}

async function dropDatabases(admin: pg.Client, names: readonly string[]): Promise<void> {
  for (const name of names) {
    await admin.query(`ALTER DATABASE ${quoteIdent(name)} IS_TEMPLATE false`).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  }
}

function progress(ctx: SuiteContext, label: string): (run: number, ours: number, theirs: number) => void {
  return (i, ours, theirs) => ctx.log(`  ${label} run ${i + 1}: dbfast ${formatMs(ours)}, baseline ${formatMs(theirs)}`);
}

async function benchRepository(ctx: SuiteContext, tools: Tools, repo: Repository): Promise<BenchRow[]> {
  const { clusters, api, admin, psql } = tools;
  const runs = ctx.options.runs;
  const server = clusters.local.adminUrl;
  const projectDir = path.join(ctx.workDir, repo.key);
  const repository = repo.create(path.join(projectDir, 'db'));
  const prefix = `bench_${repo.key}`;
  const project: BenchProject = writeProject({ dir: projectDir, serverUrl: server, templateName: prefix, environment: 'local', repository, pgBinDir: clusters.binDir, environmentLines: repo.layers ? [repo.layers] : [] });
  // These rows measure the clone itself: no pool (bench/pool.ts measures seeds from the pool).
  const cli = (...args: string[]): string => dbfast(['--config', project.configPath, ...args], { env: { ...process.env, DBFAST_POOL_SIZE: '0' } });
  const files = (await api.scanRepository(repository)).map((file) => file.absolutePath);
  const rows: BenchRow[] = [];
  const row = (r: Omit<BenchRow, 'suite' | 'subject'>): void => void rows.push({ suite: 'seed', subject: repo.label, ...r });

  ctx.log(`${repo.label}: ${files.length} files; first build (untimed)`);
  const firstBuildMs = await timeIt(() => cli('build', '--force'));
  // Slow builds (thousands of relations on a busy disk) get fewer runs to keep the bench's total time sane.
  const buildRuns = firstBuildMs > 5000 ? Math.min(runs, 3) : runs;
  const psqlTarget = `bench_psql_${repo.key}`;
  const sqlMs: number[] = [];
  const built = await compare(buildRuns, {
    prepare: async () => {
      await dropDatabases(admin, [psqlTarget]);
      await admin.query(`CREATE DATABASE ${quoteIdent(psqlTarget)}`);
      // The previous build's background work (layer templates, spares, dropping the replaced template) is done first, untimed.
      await settleBackground(admin, prefix);
    },
    dbfast: () => {
      // --verbose reports the SQL runner's own time ("ran N SQL files: ... in X ms") on stderr.
      const result = spawnSync(process.execPath, [CLI, '--config', project.configPath, '--verbose', 'build', '--force'], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`dbfast build failed:\n${result.stderr}`);
      // One line per layer (and per file of a parallel layer, which overlap: their sum overstates it).
      const ran = [...result.stderr.matchAll(/ran \d+ SQL files?: .* in (\d+) ms/g)];
      if (ran.length > 0) sqlMs.push(ran.reduce((sum, match) => sum + Number(match[1]), 0));
    },
    baseline: () => run(psql, ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', ...files.flatMap((file) => ['-f', file]), '-d', urlFor(server, psqlTarget)]),
    report: progress(ctx, 'build'),
  });
  await dropDatabases(admin, [psqlTarget]);
  const size = Number(((await admin.query('SELECT pg_database_size($1) AS size', [project.template])).rows[0] as { size: string }).size);
  // The rest: node start-up, CREATE DATABASE of the side database, the swap, DROP DATABASE of the old template (a forced checkpoint).
  const sqlNote = sqlMs.length > 0 ? `; SQL runner alone ${formatMs(median(sqlMs))}` : '';
  const runsNote = buildRuns < runs ? `; median of ${buildRuns}` : '';
  row({ case: 'build --force (CLI)', ...built, baseline: 'psql -X -1 -f into an empty database', target: '≤ 1.0×', note: `template ${formatBytes(size)}${runsNote}${sqlNote}` });
  if (repo.key !== 'path') rows.push(await rebuildRow(ctx, api, admin, project, repo.label, prefix));
  await settleBackground(admin, prefix);

  // A developer's steady state: the template is fresh and the config and hash caches are warm.
  const clone = (name: string): string => `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(project.template)}`;
  cli('seed', '--output', `bench_warm_${repo.key}`);
  await dropDatabases(admin, [`bench_warm_${repo.key}`]);
  await settleBackground(admin, prefix);
  const cliName = (i: number): string => `bench_cli_${repo.key}_${i}`;
  const psqlName = (i: number): string => `bench_psqlc_${repo.key}_${i}`;
  const seeded = await compare(runs, {
    dbfast: (i) => cli('seed', '--output', cliName(i)),
    baseline: (i) => run(psql, ['-X', '-q', '-d', server, '-c', clone(psqlName(i))]),
    cleanup: (i) => dropDatabases(admin, [cliName(i), psqlName(i)]).then(() => settle(admin)),
    report: progress(ctx, 'seed CLI'),
  });
  row({ case: 'seed (CLI, template fresh)', ...seeded, baseline: "psql -X -c 'CREATE DATABASE x TEMPLATE t'", target: '≤ 2.0×' });

  // A long-lived process (a test runner's global setup): the same strategy dbfast picks, timed by the server alone.
  const serverVersion = Number(((await admin.query('SHOW server_version_num')).rows[0] as { server_version_num: string }).server_version_num);
  const strategy = tools.strategy.chooseStrategy(serverVersion, size);
  const strategyClause = strategy ? ` STRATEGY ${strategy.toUpperCase()}` : '';
  await api.seed({ configPath: project.configPath, output: `bench_warm_${repo.key}`, pool: false });
  await dropDatabases(admin, [`bench_warm_${repo.key}`]);
  await settle(admin);
  const libName = (i: number): string => `bench_lib_${repo.key}_${i}`;
  const rawName = (i: number): string => `bench_raw_${repo.key}_${i}`;
  const ownWork: number[] = [];
  const library = await compare(runs, {
    dbfast: async (i) => {
      const result = await api.seed({ configPath: project.configPath, output: libName(i), pool: false });
      ownWork.push(result.durationMs - result.cloneMs);
    },
    baseline: (i) => admin.query(`${clone(rawName(i))}${strategyClause}`),
    cleanup: (i) => dropDatabases(admin, [libName(i), rawName(i)]).then(() => settle(admin)),
    report: progress(ctx, 'seed()'),
  });
  // The clone's own time varies a lot with the disk; what seed() adds around it does not.
  row({
    case: 'seed() (library, long-lived process)',
    ...library,
    baseline: `CREATE DATABASE ...${strategyClause} on an open connection`,
    target: '≤ 1.1×',
    note: `seed()'s own work around the clone (durationMs − cloneMs): ${formatMs(median(ownWork))}`,
  });

  if (repo.staleness) {
    const first = await api.status({ configPath: project.configPath });
    if (!first.upToDate) throw new Error(`the template of ${repo.label} should be fresh here, status says: ${JSON.stringify(first.environments)}`);
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await timeIt(() => api.status({ configPath: project.configPath })));
    row({
      case: `status() staleness check, ${files.length} unchanged files`,
      dbfastMs: median(samples),
      baselineMs: null,
      baseline: '',
      target: '≤ 50 ms',
      note: 'scan + stat-cached hashes + one catalog query, config loaded each call',
      samples: { dbfast: samples, baseline: [] },
    });
  }
  await settleBackground(admin, prefix);
  await api.drop({ configPath: project.configPath, templates: true, confirm: true });
  return rows;
}

async function crossoverSection(ctx: SuiteContext, clusters: BenchClusters, admin: pg.Client, strategy: typeof Strategy): Promise<{ section: { title: string; markdown: string }; rows: unknown }> {
  const result = await measureCrossover(ctx, clusters, admin, strategy.FILE_COPY_ABOVE_BYTES);
  return { section: { title: 'CREATE DATABASE strategy: WAL_LOG vs FILE_COPY', markdown: result.markdown }, rows: result.rows };
}

async function loadDist(): Promise<{ api: typeof Api; strategy: typeof Strategy }> {
  const api = (await import(pathToFileURL(path.join(ROOT, 'dist', 'index.js')).href)) as typeof Api;
  const strategy = (await import(pathToFileURL(path.join(ROOT, 'dist', 'local', 'strategy.js')).href)) as typeof Strategy;
  return { api, strategy };
}

/** Only the WAL_LOG / FILE_COPY crossover (also part of the seed suite), for re-measuring it alone. */
export async function strategySuite(ctx: SuiteContext): Promise<SuiteReport> {
  const clusters = await ctx.clusters();
  const { strategy } = await loadDist();
  const admin = new pg.Client({ connectionString: clusters.local.adminUrl });
  await admin.connect();
  try {
    const crossover = await crossoverSection(ctx, clusters, admin, strategy);
    return { suite: 'strategy', title: 'Clone strategy', rows: [], sections: [crossover.section], data: { crossover: crossover.rows } };
  } finally {
    await admin.end().catch(() => undefined);
  }
}

export async function seedSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const clusters = await ctx.clusters();
  const { api, strategy } = await loadDist();
  const admin = new pg.Client({ connectionString: clusters.local.adminUrl });
  await admin.connect();
  const rows: BenchRow[] = [];
  const sections: NonNullable<SuiteReport['sections']> = [];
  let crossover: unknown;
  try {
    const tools: Tools = { clusters, api, strategy, admin, psql: path.join(clusters.binDir, 'psql') };
    for (const repo of repositories(ctx)) rows.push(...(await benchRepository(ctx, tools, repo)));
    if (ctx.options.sizes.length > 0) {
      const result = await crossoverSection(ctx, clusters, admin, strategy);
      sections.push(result.section);
      crossover = result.rows;
    }
  } finally {
    await admin.end().catch(() => undefined);
  }
  return { suite: 'seed', title: 'Template build and seed', rows, sections, data: { crossover } };
}
