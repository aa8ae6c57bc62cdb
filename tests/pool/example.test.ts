import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { drainPool } from '../../src/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { dropDatabase, local, uniqueName } from '../support/db.js';
import { pooledOf, templateOid } from './support.js';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'vitest');

interface JsonReport {
  success: boolean;
  numTotalTestSuites: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{ name: string; status: string }>;
}

/** The example's own `vitest run`, as its users would run it, against the test cluster. */
function runExample(templateName: string, outputFile: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DBFAST_DATABASE_URL: local.adminUrl, DBFAST_TEMPLATE_NAME: templateName, NO_COLOR: '1' };
  // The outer vitest's own variables would make the inner one think it runs inside a worker.
  for (const key of Object.keys(env)) if (key.startsWith('VITEST') || key === 'TEST' || key === 'DBFAST_CONFIG') delete env[key];
  const vitest = path.join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const child = spawn(process.execPath, [vitest, 'run', '--root', EXAMPLE, '--reporter=json', `--outputFile=${outputFile}`], { cwd: EXAMPLE, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('examples/vitest', () => {
  // Two whole runs of the example's own vitest (each starting its workers and a pool): more than the default timeout on a busy machine.
  it('runs: each test file gets its own database from the pool, the template is built once per run', { timeout: 240_000 }, async () => {
    const templateName = uniqueName('ex');
    const template = `${templateName}_test`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-example-'));
    try {
      const run = await runExample(templateName, path.join(dir, 'report.json'));
      expect(run.code, run.output).toBe(0);
      const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as JsonReport;
      expect(report).toMatchObject({ success: true, numPassedTests: 5, numFailedTests: 0 });
      expect(report.testResults.map((file) => path.basename(file.name)).sort()).toEqual(['add.test.ts', 'complete.test.ts', 'report.test.ts']);
      // Nothing leaked: the two files that wrote had their databases dropped (no lease, no trash left);
      // what stays is ready ones, at most the pool's size (2): a clone a refill finishes after close() is dropped.
      const left = (await pooledOf(local.adminUrl, template)).map((row) => row.state);
      expect(left.filter((state) => state !== 'ready')).toEqual([]);
      expect(left.length).toBeLessThanOrEqual(2);
      // A second run reuses the template (built once, in the first run) and the ready databases.
      const built = await templateOid(local.adminUrl, template);
      const again = await runExample(templateName, path.join(dir, 'again.json'));
      expect(again.code, again.output).toBe(0);
      expect(await templateOid(local.adminUrl, template)).toBe(built);
    } finally {
      await drainPool({ configPath: path.join(EXAMPLE, 'dbfast.toml'), env: { ...process.env, DBFAST_DATABASE_URL: local.adminUrl, DBFAST_TEMPLATE_NAME: templateName } });
      await dropDatabase(local, template).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
