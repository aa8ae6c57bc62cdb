/**
 * Backup benchmark: `dbfast backup create` (zstd) against `pg_dump -Fc`, and
 * `dbfast backup restore` against `createdb` + `pg_restore` of the same database's
 * pg_dump archive, on a throwaway cluster with a generated database of a few million rows;
 * then the same create and restore with the backups in S3 (s3rver on this machine, in a
 * process of its own) against the local directory, in the same run.
 *
 *   npm run build && npx tsx bench/backup.ts            (BENCH_ROWS=4000000 BENCH_RUNS=3 to change)
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { startCluster, stopCluster } from '../tests/support/cluster.js';
import { CLI, median, ROOT, type BenchRow } from './lib.js';
import { findServerBinDir } from '../tests/support/pgbin.js';

export interface BackupBenchOptions {
  /** Rows in the generated database, over three tables (default 3,000,000). */
  rows?: number;
  /** Runs per measurement; medians are reported (default 3). */
  runs?: number;
  log?: (line: string) => void;
}

export interface BackupBenchResult {
  rows: number;
  runs: number;
  createMs: number;
  pgDumpMs: number;
  sizeBytes: number;
  pgDumpSizeBytes: number;
  createPeakRssKiB: number | null;
  restoreMs: number;
  pgRestoreMs: number;
  restorePeakRssKiB: number | null;
  /** The same through S3-compatible storage (s3rver on this machine). */
  s3CreateMs: number;
  s3RestoreMs: number;
  /** The local directory's runs made alternately with the S3 ones. */
  pairedCreateMs: number;
  pairedRestoreMs: number;
  s3CreatePeakRssKiB: number | null;
  s3RestorePeakRssKiB: number | null;
}

interface S3Server {
  endpoint: string;
  bucket: string;
  env: Record<string, string>;
  stop(): void;
}

/** Starts bench/s3-server.ts and waits for its address. */
async function startS3(): Promise<S3Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 's3-server.ts')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  child.stdout.setEncoding('utf8');
  while (!buffered.includes('\n')) {
    const [chunk] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => { throw new Error('the S3 server exited'); })])) as [string];
    buffered += chunk;
  }
  const info = JSON.parse(buffered.split('\n')[0] as string) as Omit<S3Server, 'stop'>;
  return { ...info, stop: () => void child.kill('SIGTERM') };
}

const TIME = '/usr/bin/time';

interface Timed {
  ms: number;
  peakRssKiB: number | null;
  stdout: string;
}

/** Runs a command (argument array, no shell), timing it; peak RSS via GNU time when it is there. */
function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const useTime = existsSync(TIME);
  const [cmd, cmdArgs] = useTime ? [TIME, ['-f', '%M', command, ...args]] : [command, args];
  const started = performance.now();
  const result = spawnSync(cmd, cmdArgs, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}\n${result.stdout}`.slice(0, 4000));
  const lastLine = result.stderr.trim().split('\n').pop() ?? '';
  return { ms, peakRssKiB: useTime && /^\d+$/.test(lastLine) ? Number(lastLine) : null, stdout: result.stdout };
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function urlFor(serverUrl: string, database: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Three tables with realistic, not trivially compressible content: 10% customers, 60% orders, 30% events. */
export function generateBackupBenchSql(rows: number): string {
  const customers = Math.round(rows * 0.1);
  const orders = Math.round(rows * 0.6);
  const events = rows - customers - orders;
  return `
SELECT setseed(0.42);
CREATE TABLE customer (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL, country char(2) NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO customer
SELECT g, 'user' || g || '@' || (ARRAY['example.com','mail.test','corp.example'])[(1 + g % 3)::int],
       initcap(substr(md5(g::text), 1, (6 + g % 5)::int)) || ' ' || initcap(substr(md5((g * 3)::text), 1, 8)),
       (ARRAY['DE','FR','US','GB','NL','SE','JP'])[(1 + g % 7)::int], timestamptz '2020-01-01' + g * interval '37 seconds'
FROM generate_series(1::bigint, ${customers}) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customer(id), amount numeric(12,2) NOT NULL,
                     status text NOT NULL, created_at timestamptz NOT NULL, note text);
INSERT INTO orders
SELECT g, 1 + (g * 7919) % ${customers}, round((random() * 500)::numeric, 2),
       (ARRAY['new','paid','shipped','returned'])[1 + (random() * 3)::int], timestamptz '2021-01-01' + g * interval '11 seconds',
       CASE WHEN random() < 0.3 THEN 'gift wrap, ' || md5(random()::text) END
FROM generate_series(1::bigint, ${orders}) g;
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE TABLE event (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL, kind text NOT NULL, payload jsonb NOT NULL, at timestamptz NOT NULL);
INSERT INTO event (order_id, kind, payload, at)
SELECT 1 + (g * 104729) % ${orders}, (ARRAY['view','cart','pay','ship'])[(1 + g % 4)::int],
       jsonb_build_object('ip', '10.' || (g % 256) || '.' || ((g / 256) % 256) || '.1', 'agent', substr(md5((g * 13)::text), 1, 12), 'ms', (random() * 900)::int),
       timestamptz '2022-01-01' + g * interval '5 seconds'
FROM generate_series(1::bigint, ${events}) g;`;
}

export async function benchBackup(options: BackupBenchOptions = {}): Promise<BenchRow[]> {
  const result = await measureBackup(options);
  const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const rss = (kib: number | null): string => (kib === null ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`);
  return [
    {
      suite: 'backup',
      case: `create, zstd (${result.rows.toLocaleString('en')} rows)`,
      dbfastMs: result.createMs,
      baselineMs: result.pgDumpMs,
      baseline: 'pg_dump -Fc',
      target: '≤ 1.3×',
      note: `size ${mib(result.sizeBytes)} vs ${mib(result.pgDumpSizeBytes)} = ${(result.sizeBytes / result.pgDumpSizeBytes).toFixed(2)}× (target ≤ 1.2×); peak RSS ${rss(result.createPeakRssKiB)} (target < 256 MiB)`,
    },
    {
      suite: 'backup',
      case: 'restore (checksum, side database, row check, swap)',
      dbfastMs: result.restoreMs,
      baselineMs: result.pgRestoreMs,
      baseline: 'createdb + pg_restore',
      target: '≤ 1.3×',
      note: `peak RSS ${rss(result.restorePeakRssKiB)} (target < 256 MiB)`,
    },
    {
      suite: 'backup',
      case: 'create, zstd, to S3 (s3rver on this machine)',
      dbfastMs: result.s3CreateMs,
      baselineMs: result.pairedCreateMs,
      baseline: 'create to the local directory',
      target: 'measured',
      note: `peak RSS ${rss(result.s3CreatePeakRssKiB)} (target < 256 MiB)`,
    },
    {
      suite: 'backup',
      case: 'restore from S3 (s3rver on this machine)',
      dbfastMs: result.s3RestoreMs,
      baselineMs: result.pairedRestoreMs,
      baseline: 'restore from the local directory',
      target: 'measured',
      note: `peak RSS ${rss(result.s3RestorePeakRssKiB)} (target < 256 MiB)`,
    },
  ];
}

export async function measureBackup(options: BackupBenchOptions = {}): Promise<BackupBenchResult> {
  const rows = options.rows ?? 3_000_000;
  const runs = options.runs ?? 3;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const binDir = await findServerBinDir();
  if (!binDir) throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) found');
  const work = mkdtempSync(path.join(os.tmpdir(), 'dbfast-bench-backup-'));
  log(`starting a throwaway cluster (${binDir})`);
  const cluster = await startCluster({ name: 'bench-backup', binDir, scram: false });
  let s3: S3Server | undefined;
  try {
    const db = 'bench_shop';
    const dbUrl = urlFor(cluster.adminUrl, db);
    await sql(cluster.adminUrl, `CREATE DATABASE ${db}`);
    log(`generating ${rows.toLocaleString('en')} rows`);
    await sql(dbUrl, generateBackupBenchSql(rows));
    await sql(dbUrl, 'VACUUM ANALYZE');
    const toml = path.join(work, 'dbfast.toml');
    writeFileSync(
      toml,
      [
        '[database]', `url = "${cluster.adminUrl}"`, '', '[environments.bench]', '', '[backup]', `dir = "${path.join(work, 'backups')}"`, 'compression = "zstd"', '',
        '[remotes.bench]', `url = "${dbUrl}"`, 'environment = "bench"', `[tools]`, `pg_bin_dir = "${binDir}"`, '',
      ].join('\n'),
    );
    const pgDump = path.join(binDir, 'pg_dump');
    const pgRestore = path.join(binDir, 'pg_restore');
    const create: Timed[] = [];
    const dump: Timed[] = [];
    const ids: string[] = [];
    const dumpFile = (run: number): string => path.join(work, `pg_dump-${run}.dump`);
    let sizeBytes = 0;
    for (let run = 0; run < runs; run++) {
      // Alternate the order so drift on a noisy machine hits both sides equally.
      const ours = (): void => {
        const t = timed(process.execPath, [CLI, '--config', toml, '--json', 'backup', 'create', '--remote', 'bench']);
        const parsed = JSON.parse(t.stdout) as { backup: { id: string; sizeBytes: number } };
        ids.push(parsed.backup.id);
        sizeBytes = parsed.backup.sizeBytes;
        create.push(t);
      };
      const theirs = (): void => {
        dump.push(timed(pgDump, ['-Fc', `--dbname=${dbUrl}`, `--file=${dumpFile(run)}`]));
      };
      for (const side of run % 2 === 0 ? [ours, theirs] : [theirs, ours]) side();
      log(`create run ${run + 1}: dbfast ${create[run]?.ms.toFixed(0)} ms, pg_dump -Fc ${dump[run]?.ms.toFixed(0)} ms`);
    }
    const pgDumpSizeBytes = statSync(dumpFile(0)).size;

    const restore: Timed[] = [];
    const pgRestoreRuns: Timed[] = [];
    for (let run = 0; run < runs; run++) {
      const target = `bench_restore_${run}`;
      const ours = (): void => {
        restore.push(timed(process.execPath, [CLI, '--config', toml, '--json', 'backup', 'restore', '--remote', 'bench', '--backup-id', ids[0] as string]));
      };
      const theirs = (): void => {
        const started = performance.now();
        timed(path.join(binDir, 'psql'), ['--no-psqlrc', '--quiet', `--dbname=${cluster.adminUrl}`, '-c', `CREATE DATABASE ${target}`]);
        const t = timed(pgRestore, ['--exit-on-error', `--dbname=${urlFor(cluster.adminUrl, target)}`, dumpFile(0)]);
        pgRestoreRuns.push({ ...t, ms: performance.now() - started });
      };
      for (const side of run % 2 === 0 ? [ours, theirs] : [theirs, ours]) side();
      log(`restore run ${run + 1}: dbfast ${restore[run]?.ms.toFixed(0)} ms, createdb + pg_restore ${pgRestoreRuns[run]?.ms.toFixed(0)} ms`);
    }

    // The same create and restore with the backups in S3 (the runs alternate with the local directory's).
    s3 = await startS3();
    const s3Toml = path.join(work, 'dbfast-s3.toml');
    writeFileSync(
      s3Toml,
      [
        '[database]', `url = "${cluster.adminUrl}"`, '', '[environments.bench]', '', '[backup]', `dir = "s3://${s3.bucket}/bench"`, 'compression = "zstd"',
        `endpoint = "${s3.endpoint}"`, 'force_path_style = true', '', '[remotes.bench]', `url = "${dbUrl}"`, 'environment = "bench"', `[tools]`, `pg_bin_dir = "${binDir}"`, '',
      ].join('\n'),
    );
    const s3Env = { ...process.env, ...s3.env };
    const s3Create: Timed[] = [];
    const s3Restore: Timed[] = [];
    // Local runs paired with the S3 ones, alternating which goes first: on a shared machine
    // the load drifts, and a comparison is only fair between runs made side by side.
    const pairedCreate: Timed[] = [];
    const pairedRestore: Timed[] = [];
    const s3Ids: string[] = [];
    for (let run = 0; run < runs; run++) {
      const viaS3 = (): void => {
        const t = timed(process.execPath, [CLI, '--config', s3Toml, '--json', 'backup', 'create', '--remote', 'bench'], s3Env);
        s3Ids.push((JSON.parse(t.stdout) as { backup: { id: string } }).backup.id);
        s3Create.push(t);
      };
      const local = (): void => void pairedCreate.push(timed(process.execPath, [CLI, '--config', toml, '--json', 'backup', 'create', '--remote', 'bench']));
      for (const side of run % 2 === 0 ? [viaS3, local] : [local, viaS3]) side();
      log(`create run ${run + 1}: S3 ${s3Create[run]?.ms.toFixed(0)} ms, local directory ${pairedCreate[run]?.ms.toFixed(0)} ms`);
    }
    for (let run = 0; run < runs; run++) {
      const viaS3 = (): void => void s3Restore.push(timed(process.execPath, [CLI, '--config', s3Toml, '--json', 'backup', 'restore', '--remote', 'bench', '--backup-id', s3Ids[0] as string], s3Env));
      const local = (): void => void pairedRestore.push(timed(process.execPath, [CLI, '--config', toml, '--json', 'backup', 'restore', '--remote', 'bench', '--backup-id', ids[0] as string]));
      for (const side of run % 2 === 0 ? [viaS3, local] : [local, viaS3]) side();
      log(`restore run ${run + 1}: S3 ${s3Restore[run]?.ms.toFixed(0)} ms, local directory ${pairedRestore[run]?.ms.toFixed(0)} ms`);
    }
    const peak = (list: Timed[]): number | null => (list.every((t) => t.peakRssKiB !== null) ? Math.max(...list.map((t) => t.peakRssKiB as number)) : null);
    return {
      rows,
      runs,
      createMs: median(create.map((t) => t.ms)),
      pgDumpMs: median(dump.map((t) => t.ms)),
      sizeBytes,
      pgDumpSizeBytes,
      createPeakRssKiB: peak(create),
      restoreMs: median(restore.map((t) => t.ms)),
      pgRestoreMs: median(pgRestoreRuns.map((t) => t.ms)),
      restorePeakRssKiB: peak(restore),
      s3CreateMs: median(s3Create.map((t) => t.ms)),
      s3RestoreMs: median(s3Restore.map((t) => t.ms)),
      pairedCreateMs: median(pairedCreate.map((t) => t.ms)),
      pairedRestoreMs: median(pairedRestore.map((t) => t.ms)),
      s3CreatePeakRssKiB: peak(s3Create),
      s3RestorePeakRssKiB: peak(s3Restore),
    };
  } finally {
    s3?.stop();
    stopCluster(cluster);
    rmSync(work, { recursive: true, force: true });
  }
}

/** The README table. */
export function formatBackupTable(r: BackupBenchResult): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const rss = (kib: number | null): string => (kib === null ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`);
  const ok = (pass: boolean): string => (pass ? 'met' : '**missed**');
  const createRatio = r.createMs / r.pgDumpMs;
  const sizeRatio = r.sizeBytes / r.pgDumpSizeBytes;
  const restoreRatio = r.restoreMs / r.pgRestoreMs;
  const maxRss = Math.max(r.createPeakRssKiB ?? 0, r.restorePeakRssKiB ?? 0);
  return [
    `${r.rows.toLocaleString('en')} rows, median of ${r.runs} runs`,
    '',
    '| measure | dbfast | baseline | ratio | target |',
    '|---|---:|---:|---:|---|',
    `| backup create (zstd) | ${s(r.createMs)} | ${s(r.pgDumpMs)} (pg_dump -Fc) | ${createRatio.toFixed(2)}× | ≤ 1.3×: ${ok(createRatio <= 1.3)} |`,
    `| backup size | ${mib(r.sizeBytes)} | ${mib(r.pgDumpSizeBytes)} (pg_dump -Fc) | ${sizeRatio.toFixed(2)}× | ≤ 1.2×: ${ok(sizeRatio <= 1.2)} |`,
    `| restore (checksum + side db + row check + swap) | ${s(r.restoreMs)} | ${s(r.pgRestoreMs)} (createdb + pg_restore) | ${restoreRatio.toFixed(2)}× | ≤ 1.3×: ${ok(restoreRatio <= 1.3)} |`,
    `| peak RSS of dbfast (create / restore) | ${rss(r.createPeakRssKiB)} / ${rss(r.restorePeakRssKiB)} | | | < 256 MiB: ${ok(maxRss > 0 && maxRss < 256 * 1024)} |`,
    '',
    'Through S3 (s3rver on the same machine), against the local directory, runs alternating:',
    '',
    '| measure | S3 | local directory | ratio | peak RSS (S3) |',
    '|---|---:|---:|---:|---:|',
    `| backup create (zstd, read back) | ${s(r.s3CreateMs)} | ${s(r.pairedCreateMs)} | ${(r.s3CreateMs / r.pairedCreateMs).toFixed(2)}× | ${rss(r.s3CreatePeakRssKiB)} |`,
    `| restore (checksum + side db + row check + swap) | ${s(r.s3RestoreMs)} | ${s(r.pairedRestoreMs)} | ${(r.s3RestoreMs / r.pairedRestoreMs).toFixed(2)}× | ${rss(r.s3RestorePeakRssKiB)} |`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const rows = process.env.BENCH_ROWS ? Number(process.env.BENCH_ROWS) : undefined;
  const runs = process.env.BENCH_RUNS ? Number(process.env.BENCH_RUNS) : undefined;
  measureBackup({ ...(rows ? { rows } : {}), ...(runs ? { runs } : {}) }).then(
    (result) => console.log(formatBackupTable(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
