/**
 * `npm run bench -- --only watch`: from saving a file to the `--output` database holding it,
 * with `dbfast watch` running as a developer runs it (the real CLI, real file-system events),
 * on pagila (../shared/realworld) plus a small file of the developer's own in a last folder.
 *
 * A run: write the file (t0), read `dbfast watch --json`'s stdout until the cycle's `refreshed`
 * event arrives (t1; the line a developer waits for), then check the database really holds the
 * edit. Two cases: an edit of the small last file (the everyday case), and an edit of pagila's
 * schema file (everything after it rebuilds).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pagilaRepository } from './generate.js';
import { CLI, ROOT, median, sql, urlFor, type BenchRow } from './lib.js';
import { writeProject } from './project.js';
import type { SuiteContext, SuiteReport } from './suite.js';

/** ../shared/realworld beside the checkout (/work/main), or two levels up from a worktree (/work/wt/NAME). */
const PAGILA = [path.resolve(ROOT, '..', 'shared', 'realworld', 'pagila'), path.resolve(ROOT, '..', '..', 'shared', 'realworld', 'pagila')].find((dir) => existsSync(dir)) ?? path.resolve(ROOT, '..', 'shared', 'realworld', 'pagila');

interface WatchEventLine {
  type: string;
  initial?: boolean;
  rebuildMs?: number;
  refreshMs?: number;
  sinceChangeMs?: number | null;
  error?: { message: string };
}

/** The running `dbfast watch --json`: its events as they arrive. */
function startWatch(configPath: string, output: string): { next(type: string): Promise<{ event: WatchEventLine; at: number }>; stop(): Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, '--config', configPath, '--json', 'watch', '--output', output], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const queue: Array<{ event: WatchEventLine; at: number }> = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const at = performance.now();
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith('{')) queue.push({ event: JSON.parse(line) as WatchEventLine, at });
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    async next(type) {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const found = queue.shift();
        if (found) {
          if (found.event.type === type) return found;
          if (found.event.type === 'failed') throw new Error(`watch failed: ${found.event.error?.message}`);
          continue;
        }
        if (child.exitCode !== null) throw new Error(`dbfast watch exited (${child.exitCode}):\n${stderr}`);
        if (Date.now() > deadline) throw new Error(`no ${type} event from dbfast watch within 120 s:\n${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 500);
        });
      }
    },
    async stop() {
      child.kill('SIGINT');
      return exited;
    },
  };
}

export async function watchSuite(ctx: SuiteContext): Promise<SuiteReport> {
  if (!existsSync(path.join(PAGILA, 'pagila-schema.sql'))) throw new Error(`pagila not found at ${PAGILA}`);
  const clusters = await ctx.clusters();
  const projectDir = path.join(ctx.workDir, 'pagila');
  const repository = path.join(projectDir, 'db');
  pagilaRepository(PAGILA, repository);
  mkdirSync(path.join(repository, '2_dev'), { recursive: true });
  const devFile = path.join(repository, '2_dev', '010_dev.sql');
  writeFileSync(devFile, "COMMENT ON TABLE public.actor IS 'edit 0';\n");
  const project = writeProject({ dir: projectDir, serverUrl: clusters.local.adminUrl, templateName: 'bench_watch', environment: 'local', repository, pgBinDir: clusters.binDir });
  const output = 'bench_watch_dev';
  const watch = startWatch(project.configPath, output);
  const rows: BenchRow[] = [];
  try {
    await watch.next('watching');
    ctx.log('  dbfast watch is running on pagila');
    const measure = async (label: string, edit: (run: number) => string): Promise<void> => {
      const total: number[] = [];
      const rebuild: number[] = [];
      const refresh: number[] = [];
      for (let run = 1; run <= ctx.options.runs; run++) {
        const started = performance.now();
        const expected = edit(run);
        const { event, at } = await watch.next('refreshed');
        total.push(at - started);
        rebuild.push(event.rebuildMs ?? 0);
        refresh.push(event.refreshMs ?? 0);
        const comment = (await sql(urlFor(clusters.local.adminUrl, output), "SELECT obj_description('public.actor'::regclass, 'pg_class') AS c")).rows[0]?.c;
        if (comment !== expected) throw new Error(`${output} does not hold the edit: actor's comment is ${JSON.stringify(comment)}, expected ${JSON.stringify(expected)}`);
        ctx.log(`  ${label} run ${run}: ${Math.round(at - started)} ms (rebuild ${event.rebuildMs} ms, refresh ${event.refreshMs} ms)`);
      }
      rows.push({
        suite: 'watch',
        subject: 'pagila (realworld) + 2_dev/010_dev.sql',
        case: `${label}: save → --output refreshed (CLI line)`,
        dbfastMs: median(total),
        baselineMs: null,
        baseline: '—',
        target: '≤ 1 s',
        note: `rebuild ${Math.round(median(rebuild))} ms, refresh ${Math.round(median(refresh))} ms (medians)`,
        samples: { dbfast: total, baseline: [] },
      });
    };
    await measure('edit the last small file', (run) => {
      writeFileSync(devFile, `COMMENT ON TABLE public.actor IS 'edit ${run}';\n`);
      return `edit ${run}`;
    });
    await measure('edit pagila-schema.sql', (run) => {
      appendFileSync(path.join(repository, '0_schema', 'pagila-schema.sql'), `\n-- edit ${run}\n`);
      return `edit ${ctx.options.runs}`;
    });
  } finally {
    const code = await watch.stop();
    if (code !== 130) ctx.log(`  dbfast watch exited ${code} on SIGINT (expected 130)`);
  }
  return { suite: 'watch', title: 'Watch: edit to refreshed database', rows };
}
