/**
 * Deploy suite (issue 5): `dbfast deploy --remote bench --confirm` of a generated template of
 * `--rows` rows against `pg_dump -Fc | pg_restore` of the same template to the same remote, in
 * the same run, alternating (target ≤ 1.5×; dbfast also backs up, validates and swaps), with the
 * per-phase breakdown from the deploy's --json report; then `dbfast rollback` to the previous
 * database (target ≤ 1 s whatever the size).
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { compare, dbfast, formatBytes, formatMs, median, quoteIdent, sql, timeIt, urlFor, type BenchRow } from './lib.js';
import type { BenchClusters } from './clusters.js';
import { generateDeployRepository } from './generate.js';
import { writeProject } from './project.js';
import type { SuiteContext, SuiteReport } from './suite.js';

const LIVE = 'bench_app';
const BASELINE = 'bench_baseline';
const SOURCE = 'bench_deploy_src';
const PASSWORD_ENV = 'DBFAST_BENCH_REMOTE_PASSWORD';

interface DeployJson {
  durationMs: number;
  phases: Array<{ name: string; durationMs: number }>;
  backupId: string | null;
}

/** `pg_dump -Fc SOURCE | pg_restore --no-owner -d TARGET`: two processes, a pipe between them, no shell. */
function dumpPipeRestore(clusters: BenchClusters, source: string, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const dump = spawn(path.join(clusters.binDir, 'pg_dump'), ['-Fc', '-d', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    const restore = spawn(path.join(clusters.binDir, 'pg_restore'), ['--no-owner', '--exit-on-error', '-d', target], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, PGPASSWORD: clusters.role.password },
    });
    dump.stdout.pipe(restore.stdin);
    let errors = '';
    dump.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    restore.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const exits = [dump, restore].map(
      (child) => new Promise<number | null>((done, fail) => (child.on('error', fail), child.on('close', (code) => done(code)))),
    );
    Promise.all(exits).then(([a, b]) => (a === 0 && b === 0 ? resolve() : reject(new Error(`pg_dump | pg_restore failed (${a}, ${b}):\n${errors.slice(0, 4000)}`))), reject);
  });
}

function phaseTable(runs: DeployJson[]): { markdown: string; medians: Record<string, number> } {
  const names = [...new Set(runs.flatMap((r) => r.phases.map((p) => p.name)))];
  const medians: Record<string, number> = {};
  for (const name of names) medians[name] = median(runs.map((r) => r.phases.find((p) => p.name === name)?.durationMs ?? 0));
  const total = median(runs.map((r) => r.durationMs));
  const lines = ['| phase | median | share |', '|---|---:|---:|'];
  for (const name of names) lines.push(`| ${name} | ${formatMs(medians[name] as number)} | ${(((medians[name] as number) / total) * 100).toFixed(0)}% |`);
  lines.push(`| **total (report's durationMs)** | ${formatMs(total)} | 100% |`);
  return { markdown: lines.join('\n'), medians };
}

export async function deploySuite(ctx: SuiteContext): Promise<SuiteReport> {
  const clusters = await ctx.clusters();
  const { rows: rowCount, deployRuns } = ctx.options;
  const dir = path.join(ctx.workDir, 'deploy');
  const repository = path.join(dir, 'db');
  generateDeployRepository(repository, rowCount);
  const project = writeProject({
    dir,
    serverUrl: clusters.local.adminUrl,
    templateName: 'bench_deploy',
    environment: 'staging',
    repository,
    pgBinDir: clusters.binDir,
    backupDir: path.join(dir, 'backups'),
    remote: { name: 'bench', url: clusters.remoteUrl(LIVE), passwordEnv: PASSWORD_ENV, environment: 'staging' },
  });
  const env = { [PASSWORD_ENV]: clusters.role.password };
  const cli = (...args: string[]): string => dbfast(['--config', project.configPath, ...args], { env });

  ctx.log(`deploy: building a template of ${rowCount.toLocaleString('en')} rows (untimed)`);
  const buildMs = await timeIt(() => cli('build'));
  const local = clusters.local.adminUrl;
  const size = Number(((await sql(local, 'SELECT pg_database_size($1) AS size', [project.template])).rows[0] as { size: string }).size);
  ctx.log(`deploy: template ${formatBytes(size)} built in ${formatMs(buildMs)}; first deploy creates "${LIVE}" on the remote (untimed)`);
  await sql(local, `CREATE DATABASE ${quoteIdent(SOURCE)} TEMPLATE ${quoteIdent(project.template)}`);
  cli('--json', 'deploy', '--remote', 'bench', '--confirm');

  const reports: DeployJson[] = [];
  const deployed = await compare(deployRuns, {
    prepare: async () => {
      await sql(clusters.remote.adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(BASELINE)} WITH (FORCE)`);
      await sql(clusters.remote.adminUrl, `CREATE DATABASE ${quoteIdent(BASELINE)} OWNER ${quoteIdent(clusters.role.name)}`);
      for (const server of [clusters.remote.adminUrl, local]) await sql(server, 'CHECKPOINT');
      spawnSync('sync');
    },
    dbfast: async () => {
      try {
        reports.push(JSON.parse(cli('--json', 'deploy', '--remote', 'bench', '--confirm')) as DeployJson);
      } catch (error) {
        // Who was on the live database, for a deploy that could not end the sessions there.
        const sessions = await sql(clusters.remote.adminUrl, 'SELECT pid, usename, backend_type, application_name, state, backend_start, left(query, 200) AS query FROM pg_stat_activity WHERE datname = $1', [LIVE]);
        throw new Error(`${(error as Error).message}\nsessions on ${LIVE} now: ${JSON.stringify(sessions.rows)}`, { cause: error });
      }
    },
    baseline: () => dumpPipeRestore(clusters, urlFor(local, SOURCE), clusters.remoteUrl(BASELINE)),
    report: (i, ours, theirs) => ctx.log(`  deploy run ${i + 1}: dbfast ${formatMs(ours)}, pg_dump -Fc | pg_restore ${formatMs(theirs)}`),
  });
  await sql(clusters.remote.adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(BASELINE)} WITH (FORCE)`);
  const phases = phaseTable(reports);

  // Each rollback exchanges live and previous, so the next one rolls forward: same work every time.
  const rollbacks: number[] = [];
  for (let i = 0; i < ctx.options.runs; i++) {
    rollbacks.push(await timeIt(() => cli('--json', 'rollback', '--remote', 'bench', '--confirm')));
    ctx.log(`  rollback run ${i + 1}: ${formatMs(rollbacks[i] as number)}`);
  }
  await sql(local, `DROP DATABASE IF EXISTS ${quoteIdent(SOURCE)} WITH (FORCE)`);

  const subject = `${rowCount.toLocaleString('en')} rows, template ${formatBytes(size)}`;
  const rows: BenchRow[] = [
    {
      suite: 'deploy',
      subject,
      case: 'deploy --remote --confirm (CLI), all phases',
      ...deployed,
      baseline: 'pg_dump -Fc | pg_restore --no-owner',
      target: '≤ 1.5×',
    },
    {
      suite: 'deploy',
      subject,
      case: 'rollback --remote --confirm (CLI) to previous',
      dbfastMs: median(rollbacks),
      baselineMs: null,
      baseline: '',
      target: '≤ 1 s',
      samples: { dbfast: rollbacks, baseline: [] },
    },
  ];
  return {
    suite: 'deploy',
    title: 'Deploy and rollback',
    rows,
    sections: [{ title: `Deploy phases (median of ${reports.length} deploys)`, markdown: phases.markdown }],
    data: { rows: rowCount, templateBytes: size, buildMs, phaseMedians: phases.medians, reports },
  };
}
