/**
 * Where FILE_COPY starts to beat WAL_LOG (PostgreSQL 15+): templates of growing size cloned with
 * each strategy, alternating, with a CHECKPOINT before every clone so neither pays for the dirty
 * buffers the other left. Measured with the server's durable defaults and, because fsync decides
 * what FILE_COPY costs (it fsyncs every copied file and checkpoints twice), with fsync off as well.
 */
import pg from 'pg';
import { startExtraCluster, stopExtraCluster, type BenchClusters } from './clusters.js';
import { formatBytes, formatMs, median, quoteIdent, timeIt, urlFor } from './lib.js';
import type { SuiteContext } from './suite.js';

export interface CrossoverRow {
  fsync: boolean;
  targetMiB: number;
  sizeBytes: number;
  walLogMs: number;
  fileCopyMs: number;
  samples: { walLog: number[]; fileCopy: number[] };
}

const MiB = 1024 * 1024;
/** On-disk bytes per filler row (heap, about 45 rows per 8 kB page), for a first guess. */
const BYTES_PER_ROW = 180;

async function databaseSize(admin: pg.Client, name: string): Promise<number> {
  return Number(((await admin.query('SELECT pg_database_size($1) AS size', [name])).rows[0] as { size: string }).size);
}

/** A database of about `mib` MiB (an empty one is already ~7.5 MiB of catalogs), frozen so clones copy stable pages. */
async function makeTemplate(admin: pg.Client, serverUrl: string, name: string, mib: number): Promise<number> {
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${quoteIdent(name)}`);
  const client = new pg.Client({ connectionString: urlFor(serverUrl, name) });
  await client.connect();
  try {
    await client.query('CREATE TABLE filler (id bigint, payload text)');
    const empty = await databaseSize(admin, name);
    const rows = Math.max(0, Math.round((mib * MiB - empty) / BYTES_PER_ROW));
    if (rows > 0) await client.query(`INSERT INTO filler SELECT g, md5(g::text) || repeat('x', 100) FROM generate_series(1, ${rows}) AS g`);
    await client.query('VACUUM (FREEZE, ANALYZE) filler');
  } finally {
    await client.end();
  }
  return databaseSize(admin, name);
}

/** Every size, cloned both ways on one server; the templates are dropped afterwards. */
async function measureOn(ctx: SuiteContext, admin: pg.Client, serverUrl: string, fsync: boolean, runs: number): Promise<CrossoverRow[]> {
  const rows: CrossoverRow[] = [];
  const templates: string[] = [];
  try {
    for (const mib of ctx.options.sizes) {
      const name = `bench_size_${mib}`;
      ctx.log(`crossover (fsync ${fsync ? 'on' : 'off'}): making a ${mib} MiB template`);
      templates.push(name);
      const sizeBytes = await makeTemplate(admin, serverUrl, name, mib);
      const samples = { walLog: [] as number[], fileCopy: [] as number[] };
      // Pairs in alternating order: WAL_LOG first, then FILE_COPY first, ...
      for (let i = 0; i < runs * 2; i++) {
        const strategy = (i + Math.floor(i / 2)) % 2 === 0 ? 'WAL_LOG' : 'FILE_COPY';
        const clone = `bench_clone_${mib}`;
        await admin.query('CHECKPOINT');
        const ms = await timeIt(() => admin.query(`CREATE DATABASE ${quoteIdent(clone)} TEMPLATE ${quoteIdent(name)} STRATEGY ${strategy}`));
        await admin.query(`DROP DATABASE ${quoteIdent(clone)}`);
        (strategy === 'WAL_LOG' ? samples.walLog : samples.fileCopy).push(ms);
      }
      const row = { fsync, targetMiB: mib, sizeBytes, walLogMs: median(samples.walLog), fileCopyMs: median(samples.fileCopy), samples };
      ctx.log(`  ${formatBytes(row.sizeBytes)}: WAL_LOG ${formatMs(row.walLogMs)}, FILE_COPY ${formatMs(row.fileCopyMs)}`);
      rows.push(row);
      await admin.query(`DROP DATABASE ${quoteIdent(name)} WITH (FORCE)`);
    }
  } finally {
    for (const name of templates) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => undefined);
  }
  return rows;
}

/**
 * The bench's local cluster for its own fsync setting; with the durable defaults, also a
 * throwaway fsync-off cluster, because fsync cannot be changed without a restart here (the
 * clusters set it on the command line, which ALTER SYSTEM does not override).
 */
export async function measureCrossover(
  ctx: SuiteContext,
  clusters: BenchClusters,
  admin: pg.Client,
  currentThreshold: number,
): Promise<{ rows: CrossoverRow[]; markdown: string }> {
  const runs = Math.min(ctx.options.runs, 3);
  const rows = await measureOn(ctx, admin, clusters.local.adminUrl, clusters.fsync, runs);
  if (clusters.fsync) {
    const other = await startExtraCluster('bench-nofsync', clusters.binDir, false);
    const client = new pg.Client({ connectionString: other.adminUrl });
    try {
      await client.connect();
      rows.push(...(await measureOn(ctx, client, other.adminUrl, false, runs)));
    } finally {
      await client.end().catch(() => undefined);
      stopExtraCluster(other);
    }
  }
  return { rows, markdown: crossoverTable(rows, runs, currentThreshold) };
}

/** The smallest size from which FILE_COPY is faster at that size and every larger one, or null. */
export function crossoverPoint(rows: readonly CrossoverRow[]): number | null {
  let point: number | null = null;
  for (const row of [...rows].sort((a, b) => b.sizeBytes - a.sizeBytes)) {
    if (row.fileCopyMs < row.walLogMs) point = row.sizeBytes;
    else break;
  }
  return point;
}

function crossoverTable(rows: readonly CrossoverRow[], runs: number, currentThreshold: number): string {
  const lines = [
    `median of ${runs} clones per cell, CHECKPOINT before each; dbfast uses FILE_COPY above ${formatBytes(currentThreshold)} (FILE_COPY_ABOVE_BYTES)`,
    '',
    '| server settings | template size | WAL_LOG | FILE_COPY | faster |',
    '|---|---:|---:|---:|---|',
  ];
  for (const row of rows) {
    const faster = row.fileCopyMs < row.walLogMs ? `FILE_COPY (${(row.walLogMs / row.fileCopyMs).toFixed(2)}×)` : `WAL_LOG (${(row.fileCopyMs / row.walLogMs).toFixed(2)}×)`;
    lines.push(`| fsync ${row.fsync ? 'on (default)' : 'off'} | ${formatBytes(row.sizeBytes)} | ${formatMs(row.walLogMs)} | ${formatMs(row.fileCopyMs)} | ${faster} |`);
  }
  for (const fsync of [true, false]) {
    const subset = rows.filter((row) => row.fsync === fsync);
    if (subset.length === 0) continue;
    const point = crossoverPoint(subset);
    lines.push('', `fsync ${fsync ? 'on' : 'off'}: ${point === null ? 'WAL_LOG was faster at the largest size measured' : `FILE_COPY faster from ${formatBytes(point)} up`}`);
  }
  return lines.join('\n');
}
