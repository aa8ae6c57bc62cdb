/**
 * Layered templates in the seed suite (issue 14): the background worker a build leaves (layer
 * templates, spares, the replaced template's drop) is waited for, untimed, between runs; and the
 * row that compares a rebuild after editing one file of the last layer with a full rebuild.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type * as Api from '../src/index.js';
import { formatMs, median, settle, timeIt, type BenchRow } from './lib.js';
import type { BenchProject } from './project.js';
import type { SuiteContext } from './suite.js';

/**
 * Waits until no dbfast background worker or build runs and nothing of `prefix` is unfinished
 * (a replaced template not yet dropped, a layer template being made), then settles the disk.
 */
export async function settleBackground(admin: pg.Client, prefix: string): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const result = await admin.query<{ busy: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name IN ('dbfast background', 'dbfast build'))
           OR EXISTS (SELECT 1 FROM pg_database WHERE starts_with(datname, $1) AND datname ~ '__dbfast_(old|build|spare)_[0-9a-f]{8}$'
                        AND shobj_description(oid, 'pg_database') IS DISTINCT FROM NULL AND NOT starts_with(shobj_description(oid, 'pg_database'), 'dbfast:spare:')) AS busy`,
      [prefix],
    );
    if (!result.rows[0]?.busy) break;
    if (Date.now() > deadline) throw new Error(`the background work of ${prefix} did not finish within 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await settle(admin);
}

/** The last file of the last layer (what a developer edits most): the last file in natural order. */
async function lastFile(api: typeof Api, repository: string): Promise<string> {
  const files = await api.scanRepository(repository);
  return (files[files.length - 1] as { absolutePath: string }).absolutePath;
}

/**
 * Same run, alternating: `build()` after editing the last file (a comment line that changes
 * its hash), against `build({ force: true })`, both in one long-lived process (a watch loop, a
 * test runner), each after the previous one's background work is done.
 */
export async function rebuildRow(ctx: SuiteContext, api: typeof Api, admin: pg.Client, project: BenchProject, subject: string, prefix: string): Promise<BenchRow> {
  const file = await lastFile(api, project.repository);
  const original = readFileSync(file);
  const rebuild: number[] = [];
  const full: number[] = [];
  const layersRun: number[] = [];
  try {
    // Once untimed, so the layer templates and spares a rebuild leaves exist.
    await api.build({ configPath: project.configPath, force: true });
    await settleBackground(admin, prefix);
    for (let run = 0; run < ctx.options.runs; run++) {
      const edited = async (): Promise<void> => {
        appendFileSync(file, `-- edited ${Date.now()} ${run}\n`);
        const result = await api.build({ configPath: project.configPath });
        layersRun.push(result.layers.filter((layer) => layer.state === 'rebuilt').length);
      };
      const forced = (): Promise<unknown> => api.build({ configPath: project.configPath, force: true });
      for (const [step, into] of run % 2 === 0 ? ([[edited, rebuild], [forced, full]] as const) : ([[forced, full], [edited, rebuild]] as const)) {
        into.push(await timeIt(step));
        await settleBackground(admin, prefix);
      }
      ctx.log(`  rebuild run ${run + 1}: last-layer edit ${formatMs(rebuild[rebuild.length - 1] ?? 0)}, full ${formatMs(full[full.length - 1] ?? 0)}`);
    }
  } finally {
    writeFileSync(file, original);
  }
  return {
    suite: 'seed',
    subject,
    case: 'build() after editing one file of the last layer (library)',
    dbfastMs: median(rebuild),
    baselineMs: median(full),
    baseline: 'build({ force: true }) of every layer, same process',
    target: '≤ 0.2×',
    note: `layers run by the rebuild: ${Math.max(...layersRun)} (${path.basename(file)})`,
    samples: { dbfast: rebuild, baseline: full },
  };
}
