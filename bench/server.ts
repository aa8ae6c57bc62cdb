/**
 * Managed-server suite (issue 12), each row a median of runs:
 *   server start, no server yet (initdb + start)                                   target ≤ 5 s
 *   first seed on a machine with no server (initdb, start, build, clone; CLI)      target ≤ 10 s
 *   warm seed (CLI) on the managed server  vs  psql -X -c 'CREATE DATABASE x TEMPLATE t' on it   target ≤ 2.0×
 * and a section measuring the server settings (durable defaults against the fast ones dbfast
 * chose, and wal_level=minimal on top) on `build --force` and the clone of a seed.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopPostgres } from '../src/server/postgres.js';
import { startCluster, stopCluster } from '../tests/support/cluster.js';
import { findServerBinDir } from '../tests/support/pgbin.js';
import { generateDataRepository } from './generate.js';
import { compare, dbfast, formatBytes, formatMs, median, quoteIdent, ROOT, run, sql, timeIt, type BenchRow } from './lib.js';
import type { SuiteContext, SuiteReport } from './suite.js';

const FIXTURE = path.join(ROOT, 'fixtures', 'app', 'db');

/** A project with no [database] address: the managed server's. */
function managedProject(dir: string, repository: string, templateName: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'dbfast.toml'), `[database]\ntemplate_name = "${templateName}"\n\n[repository]\npath = ${JSON.stringify(repository)}\n`);
  return path.join(dir, 'dbfast.toml');
}

/** A machine where no local database is configured, the managed server in `root`. */
function machineEnv(root: string): NodeJS.ProcessEnv {
  // DBFAST_POOL_SIZE=0: these rows measure the clone a seed makes, not a seed from the pool (bench/pool.ts).
  const env: NodeJS.ProcessEnv = { ...process.env, DBFAST_SERVER_DIR: root, DBFAST_POOL_SIZE: '0' };
  for (const key of ['DATABASE_URL', 'DBFAST_DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE']) delete env[key];
  return env;
}

function freshRoot(work: string, name: string): string {
  const root = mkdtempSync(path.join(work, `${name}-`));
  chmodSync(root, 0o755);
  return root;
}

async function destroy(root: string): Promise<void> {
  await stopPostgres(path.join(root, '15', 'data'), 'immediate').catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
}

async function managedRows(ctx: SuiteContext, psql: string): Promise<BenchRow[]> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'dbfast-bench-server-'));
  chmodSync(work, 0o755);
  const rows: BenchRow[] = [];
  const firstRuns = Math.min(ctx.options.runs, 3);
  try {
    const startMs: number[] = [];
    const firstMs: number[] = [];
    for (let i = 0; i < firstRuns; i++) {
      const root = freshRoot(work, 'start');
      startMs.push(await timeIt(() => dbfast(['server', 'start'], { env: machineEnv(root) })));
      await destroy(root);
      const seedRoot = freshRoot(work, 'first');
      const config = managedProject(path.join(work, `first-project-${i}`), FIXTURE, 'bench_first');
      firstMs.push(await timeIt(() => dbfast(['--config', config, 'seed', '--output', 'demo'], { env: machineEnv(seedRoot) })));
      ctx.log(`  first start run ${i + 1}: server start ${formatMs(startMs.at(-1) ?? 0)}, first seed ${formatMs(firstMs.at(-1) ?? 0)}`);
      await destroy(seedRoot);
    }
    const subject = 'fixtures/app (6 files), managed server';
    rows.push({ suite: 'server', subject, case: 'server start, no server yet (initdb + start; CLI)', dbfastMs: median(startMs), baselineMs: null, baseline: '—', target: '≤ 5 s', samples: { dbfast: startMs, baseline: [] }, note: `median of ${firstRuns}` });
    rows.push({ suite: 'server', subject, case: 'first seed on a machine with no server (initdb, start, build, clone; CLI)', dbfastMs: median(firstMs), baselineMs: null, baseline: '—', target: '≤ 10 s', samples: { dbfast: firstMs, baseline: [] }, note: `median of ${firstRuns}` });

    const root = freshRoot(work, 'warm');
    const env = machineEnv(root);
    const config = managedProject(path.join(work, 'warm-project'), FIXTURE, 'bench_warm');
    dbfast(['--config', config, 'seed', '--output', 'warmup'], { env });
    const url = dbfast(['server', 'url'], { env }).trim();
    const clone = (name: string): string => `CREATE DATABASE ${quoteIdent(name)} TEMPLATE bench_warm_local`;
    const drop = async (names: string[]): Promise<void> => {
      for (const name of names) await sql(url, `DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      await sql(url, 'CHECKPOINT');
    };
    const seeded = await compare(ctx.options.runs, {
      dbfast: (i) => dbfast(['--config', config, 'seed', '--output', `cli_${i}`], { env }),
      baseline: (i) => run(psql, ['-X', '-q', '-d', url, '-c', clone(`psql_${i}`)]),
      cleanup: (i) => drop([`cli_${i}`, `psql_${i}`]),
      report: (i, ours, theirs) => ctx.log(`  warm seed run ${i + 1}: dbfast ${formatMs(ours)}, psql ${formatMs(theirs)}`),
    });
    rows.push({ suite: 'server', subject, case: 'seed (CLI, template fresh, server running)', ...seeded, baseline: "psql -X -c 'CREATE DATABASE x TEMPLATE t' on the managed server", target: '≤ 2.0×' });
    await destroy(root);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return rows;
}

const PROFILES: Array<{ name: string; settings: string[] }> = [
  { name: "durable (PostgreSQL's defaults; `server start --durable`)", settings: ['fsync=on', 'synchronous_commit=on', 'full_page_writes=on'] },
  { name: 'fsync off only', settings: ['fsync=off', 'synchronous_commit=on', 'full_page_writes=on'] },
  { name: 'fast: fsync, synchronous_commit, full_page_writes off (dbfast\'s default)', settings: [] },
  { name: 'fast + wal_level=minimal, max_wal_senders=0', settings: ['wal_level=minimal', 'max_wal_senders=0'] },
];

/** build --force and the clone of a seed under each settings profile, on a 24 MiB generated repository. */
async function settingsSection(ctx: SuiteContext): Promise<string> {
  const binDir = await findServerBinDir();
  if (!binDir) throw new Error('no PostgreSQL server binaries for the settings section');
  const work = mkdtempSync(path.join(os.tmpdir(), 'dbfast-bench-settings-'));
  const repository = path.join(work, 'db');
  generateDataRepository(repository);
  const runs = Math.min(ctx.options.runs, 3);
  const lines = ['| server settings | build --force (CLI) | seed: CREATE DATABASE (cloneMs) | seed (CLI, wall) |', '|---|---:|---:|---:|'];
  let size = 0;
  try {
    for (const profile of PROFILES) {
      const cluster = await startCluster({ name: 'bench-settings', binDir, scram: false, settings: profile.settings });
      try {
        const projectDir = path.join(work, `p-${PROFILES.indexOf(profile)}`);
        mkdirSync(projectDir, { recursive: true });
        // [pool] size = 0: the clone itself is measured, not a seed from the pool (bench/pool.ts).
        writeFileSync(path.join(projectDir, 'dbfast.toml'), `[database]\nurl = ${JSON.stringify(cluster.adminUrl)}\ntemplate_name = "bench_settings"\n\n[repository]\npath = ${JSON.stringify(repository)}\n\n[pool]\nsize = 0\n`);
        const config = path.join(projectDir, 'dbfast.toml');
        dbfast(['--config', config, 'build']);
        const build: number[] = [];
        const clone: number[] = [];
        const wall: number[] = [];
        for (let i = 0; i < runs; i++) {
          await sql(cluster.adminUrl, 'CHECKPOINT');
          build.push(await timeIt(() => dbfast(['--config', config, 'build', '--force'])));
          await sql(cluster.adminUrl, 'CHECKPOINT');
          let result = '';
          wall.push(await timeIt(() => (result = dbfast(['--config', config, '--json', 'seed', '--output', `s_${i}`]))));
          clone.push((JSON.parse(result) as { cloneMs: number }).cloneMs);
          await sql(cluster.adminUrl, `DROP DATABASE ${quoteIdent(`s_${i}`)}`);
        }
        size = Number(((await sql(cluster.adminUrl, "SELECT pg_database_size('bench_settings_local') AS size")).rows[0] as { size: string }).size);
        lines.push(`| ${profile.name} | ${formatMs(median(build))} | ${formatMs(median(clone))} | ${formatMs(median(wall))} |`);
        ctx.log(`  ${profile.name}: build ${formatMs(median(build))}, clone ${formatMs(median(clone))}`);
      } finally {
        stopCluster(cluster);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  lines.push('', `Generated repository: 12 tables, 96k rows as COPY (template ${formatBytes(size)}); median of ${runs} runs per cell, a CHECKPOINT before each.`);
  return lines.join('\n');
}

export async function serverSuite(ctx: SuiteContext): Promise<SuiteReport> {
  const psql = run('sh', ['-c', 'command -v psql']).trim() || 'psql';
  const rows = await managedRows(ctx, psql);
  const settings = await settingsSection(ctx);
  return { suite: 'server', title: 'The managed server', rows, sections: [{ title: 'Server settings: build and clone speed', markdown: settings }] };
}
