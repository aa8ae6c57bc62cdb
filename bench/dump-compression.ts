/**
 * Issue 17.6: should a deploy's template dump be compressed? A deploy dumps the template to
 * `.dbfast/tmp` and restores that file with `pg_restore --jobs 2` into a side database; the
 * file is deleted after the deploy. This measures, for the ways the dump could be written, the
 * dump time, the file size and the restore time (-j 2, as a deploy does), on pagila
 * (../shared/realworld) and on a generated database.
 *
 *   npx tsx bench/dump-compression.ts            (BENCH_ROWS=1000000 BENCH_RUNS=3 to change)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { dumpDatabase } from '../src/archive/dump.js';
import { restoreArchive } from '../src/archive/restore.js';
import { targetFromUrl } from '../src/pg/target.js';
import type { Compression } from '../src/config/types.js';
import { startCluster, stopCluster } from '../tests/support/cluster.js';
import { findServerBinDir } from '../tests/support/pgbin.js';
import { median, ROOT } from './lib.js';

interface Way {
  label: string;
  /** Compression dbfast applies to the stream (a compressed stream needs a temp copy for -j). */
  stream: Compression;
  /** pg_dump's own compression (keeps the archive seekable). */
  pgDumpArgs: string[];
}

const WAYS: Way[] = [
  { label: 'none (today: pg_dump --compress=0)', stream: 'none', pgDumpArgs: [] },
  { label: 'pg_dump -Z1 (gzip inside the archive)', stream: 'none', pgDumpArgs: ['--compress=1'] },
  { label: 'lz4 stream (temp copy for -j 2)', stream: 'lz4', pgDumpArgs: [] },
  { label: 'zstd stream (temp copy for -j 2)', stream: 'zstd', pgDumpArgs: [] },
];

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function dbUrl(server: string, db: string): string {
  const url = new URL(server);
  url.pathname = `/${db}`;
  return url.toString();
}

async function measure(serverUrl: string, db: string, work: string, runs: number): Promise<string[]> {
  const lines: string[] = [];
  for (const way of WAYS) {
    const dumpMs: number[] = [];
    const restoreMs: number[] = [];
    let size = 0;
    for (let run = 0; run < runs; run++) {
      const file = path.join(work, `${db}-${run}.dump`);
      // dumpDatabase writes --compress=0 first; a later --compress=N wins in pg_dump's argument parsing.
      let started = performance.now();
      await dumpDatabase(targetFromUrl(dbUrl(serverUrl, db)), file, { compression: way.stream, extraArgs: way.pgDumpArgs });
      dumpMs.push(performance.now() - started);
      size = statSync(file).size;
      const target = `${db}_restore_${run}`;
      await sql(serverUrl, `DROP DATABASE IF EXISTS ${target}`);
      started = performance.now();
      await sql(serverUrl, `CREATE DATABASE ${target}`);
      await restoreArchive(targetFromUrl(dbUrl(serverUrl, target)), file, { compression: way.stream, jobs: 2, tempDir: work });
      restoreMs.push(performance.now() - started);
      await sql(serverUrl, `DROP DATABASE ${target}`);
      rmSync(file, { force: true });
    }
    const line = `| ${db} | ${way.label} | ${(size / 1024 / 1024).toFixed(1)} MiB | ${(median(dumpMs) / 1000).toFixed(2)} s | ${(median(restoreMs) / 1000).toFixed(2)} s |`;
    process.stderr.write(`${line}\n`);
    lines.push(line);
  }
  return lines;
}

async function main(): Promise<void> {
  const rows = Number(process.env.BENCH_ROWS ?? 1_000_000);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const binDir = await findServerBinDir();
  if (!binDir) throw new Error('no PostgreSQL server binaries found');
  const work = mkdtempSync(path.join(os.tmpdir(), 'dbfast-dump-compression-'));
  const cluster = await startCluster({ name: 'bench-dumpz', binDir, scram: false });
  try {
    const pagila = path.resolve(ROOT, '..', '..', 'shared', 'realworld', 'pagila');
    const subjects: string[] = [];
    if (existsSync(pagila)) {
      await sql(cluster.adminUrl, 'CREATE DATABASE pagila');
      for (const part of ['pagila-schema.sql', 'pagila-data.sql']) {
        const psql = spawnSync(path.join(binDir, 'psql'), ['--no-psqlrc', '-q', '-v', 'ON_ERROR_STOP=1', `--dbname=${dbUrl(cluster.adminUrl, 'pagila')}`, '-f', path.join(pagila, part)], { encoding: 'utf8' });
        if (psql.status !== 0) throw new Error(psql.stderr);
      }
      subjects.push('pagila');
    }
    await sql(cluster.adminUrl, 'CREATE DATABASE generated');
    const { generateBackupBenchSql } = await import('./backup.js');
    await sql(dbUrl(cluster.adminUrl, 'generated'), generateBackupBenchSql(rows));
    subjects.push('generated');
    const lines = ['| database | dump written as | file size | dump | restore (-j 2) |', '|---|---|---:|---:|---:|'];
    for (const db of subjects) lines.push(...(await measure(cluster.adminUrl, db, work, runs)));
    console.log(`median of ${runs} runs; generated = ${rows.toLocaleString('en')} rows\n\n${lines.join('\n')}`);
  } finally {
    stopCluster(cluster);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
