import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as Api from '../src/index.js';
import { formatMs, median, ROOT, type BenchRow } from './lib.js';
import type { BenchProject } from './project.js';
import type { SuiteContext } from './suite.js';

const FILES = 50;

/**
 * A vitest project of 50 test files, each needing a fresh database it writes to, run the two
 * ways a suite gets them: `pool` (global setup keeps a pool, each file leases) and `clone`
 * (each file seeds its own clone with seed() and drops it after). Vitest's own defaults otherwise
 * (forks, its default worker count).
 */
function writeSuite(dir: string, configPath: string): void {
  mkdirSync(path.join(dir, 'tests'), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const dist = JSON.stringify(path.join(ROOT, 'dist', 'index.js'));
  const config = JSON.stringify(configPath);
  writeFileSync(
    path.join(dir, 'vitest.config.ts'),
    `import { defineConfig } from 'vitest/config';
const pool = process.env.BENCH_MODE === 'pool';
export default defineConfig({
  resolve: { alias: { dbfast: ${dist} } },
  test: { include: ['tests/**/*.test.ts'], globalSetup: pool ? ['./global-setup.ts'] : [], setupFiles: [pool ? './lease.ts' : './clone.ts'], pool: 'forks' },
});
`,
  );
  writeFileSync(
    path.join(dir, 'global-setup.ts'),
    `import { createPool } from 'dbfast';
export default async function () {
  const pool = await createPool({ configPath: ${config}, size: 2, maxClones: 64 });
  return () => pool.close({ drain: true });
}
`,
  );
  writeFileSync(
    path.join(dir, 'lease.ts'),
    `import { afterAll, beforeAll } from 'vitest';
import { lease } from 'dbfast';
let db;
beforeAll(async () => { db = await lease({ configPath: ${config}, maxClones: 64 }); process.env.DATABASE_URL = db.url; });
afterAll(async () => { await db.release(); });
`,
  );
  writeFileSync(
    path.join(dir, 'clone.ts'),
    `import { afterAll, beforeAll } from 'vitest';
import { drop, seed } from 'dbfast';
let name;
beforeAll(async () => {
  name = 'bench_vt_' + process.pid + '_' + Math.random().toString(36).slice(2, 8);
  const result = await seed({ configPath: ${config}, output: name, pool: false });
  process.env.DATABASE_URL = result.url;
});
afterAll(async () => { await drop({ configPath: ${config}, names: [name] }); });
`,
  );
  for (let i = 0; i < FILES; i++) {
    writeFileSync(
      path.join(dir, 'tests', `file${String(i).padStart(2, '0')}.test.ts`),
      `import pg from 'pg';
import { expect, it } from 'vitest';
it('writes into a database of its own', async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  await client.query("INSERT INTO bench.t0 (id, name, amount, created_at) VALUES (-1, 'file ${i}', 1, now())");
  expect((await client.query("SELECT count(*)::int AS n FROM bench.t0 WHERE id = -1")).rows[0].n).toBe(1);
  await client.end();
});
`,
    );
  }
}

function runSuite(dir: string, mode: 'pool' | 'clone'): number {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_MODE: mode, NO_COLOR: '1' };
  const started = performance.now();
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', dir], { cwd: dir, env, encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`vitest (${mode}) failed:\n${result.stdout}\n${result.stderr}`.slice(0, 4000));
  return ms;
}

export async function benchVitest(ctx: SuiteContext, _api: typeof Api, project: BenchProject): Promise<BenchRow> {
  const dir = path.join(ctx.workDir, 'vitest50');
  writeSuite(dir, project.configPath);
  const runs = Math.min(ctx.options.runs, 3);
  const pool: number[] = [];
  const clone: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 === 0 ? (['pool', 'clone'] as const) : (['clone', 'pool'] as const)) {
      const ms = runSuite(dir, mode);
      (mode === 'pool' ? pool : clone).push(ms);
      ctx.log(`  vitest run ${i + 1} ${mode}: ${formatMs(ms)}`);
    }
  }
  return {
    suite: 'pool',
    case: `vitest, ${FILES} test files each writing to a database of its own: wall time`,
    dbfastMs: median(pool),
    baselineMs: median(clone),
    baseline: 'seed() + drop() per file',
    target: '',
    note: `\`vitest run\` with its default workers; the pool: createPool in globalSetup, lease() per file; median of ${runs}`,
    samples: { dbfast: pool, baseline: clone },
  };
}
