import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import * as library from '../../src/index.js';
import { PROJECT_ROOT } from '../support/cli.js';

/*
 * The public surface (src/index.ts) re-exports the functions of src/api/. These hold it to what
 * it promised before that split: the same names, nothing heavy loaded on import, and the CLI
 * kept to index.ts, errors.ts and logger.ts by the lint rule.
 */

/** Every value src/index.ts exported before the functions moved to src/api/ (types are held by tsc). */
const EXPORTED = [
  'DbfastError', 'ERRORS', 'MAX_LIVE_NAME_BYTES', 'addRemote', 'assertProductionSafe', 'build', 'checkBackups', 'confirmationRequired',
  'createBackup', 'createPool', 'dbfastVersion', 'defaultEnvironmentName', 'deploy', 'describeReplacement', 'destroyServer', 'doctor',
  'drainPool', 'drop', 'environmentSummaries', 'fillPool', 'filterFiles', 'findEnvironment', 'findRemote', 'guardViolations', 'history',
  'historyAllRemotes', 'initProject', 'isDbfastError', 'isProductionEnvironment', 'isProductionRemote', 'lease', 'list', 'listBackups',
  'listRemotes', 'loadConfig', 'localTarget', 'markApplied', 'migrateApply', 'migrateHistory', 'migrateStatus', 'migrateVerify',
  'operationalError', 'poolStatus', 'pruneBackups', 'remoteSetup', 'remoteStatus', 'remoteTarget', 'removeRemote', 'resolveLocalConnection',
  'restoreBackup', 'rollback', 'runBackgroundWorker', 'runCleanups', 'scanRepository', 'seed', 'serveWebhooks', 'serverLogs', 'serverStatus',
  'serverUrl', 'showConfig', 'showEnvironment', 'silentLogger', 'startPoolRefill', 'startServer', 'stats', 'status', 'stopServer', 'testRemote',
  'toDbfastError', 'updateRemote', 'validateEnvironments', 'verifyBackup', 'watch', 'webhookEvents',
];

/** A resolve hook that reports every module a process loads, one `LOADED <url>` line each on stderr. */
const REPORT_LOADS = `data:text/javascript,${encodeURIComponent(
  "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('LOADED ' + r.url + '\\n'); return r; }",
)}`;

describe('the public surface', () => {
  it('exports every value it exported before, and nothing else', () => {
    expect(Object.keys(library).sort()).toEqual([...EXPORTED].sort());
  });

  it('loads no implementation on import: no pg, zod, execa or chokidar, no template, deploy, backup or webhook code', () => {
    const entry = pathToFileURL(path.join(PROJECT_ROOT, 'dist', 'index.js')).href;
    const script = `import { register } from 'node:module'; register(${JSON.stringify(REPORT_LOADS)}); await import(${JSON.stringify(entry)});`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const loaded = run.stderr.split('\n').filter((line) => line.startsWith('LOADED ')).map((line) => line.slice('LOADED '.length));
    // The api files themselves load (they are the functions); what they call must not until called.
    expect(loaded.some((url) => url.endsWith('/dist/api/local.js'))).toBe(true);
    const packages = loaded.filter((url) => url.includes('/node_modules/')).map((url) => url.split('/node_modules/')[1]?.split('/')[0]);
    for (const heavy of ['pg', 'zod', 'execa', 'chokidar', '@iarna']) expect(packages).not.toContain(heavy);
    const modules = loaded.filter((url) => url.includes('/dist/')).map((url) => url.split('/dist/')[1]?.split('/')[0]);
    for (const lazy of ['local', 'deploy', 'backup', 'migrate', 'webhook', 'pool', 'replace', 'history', 'sql', 'archive', 'doctor']) {
      expect(modules, `dist/${lazy}/ loaded on import`).not.toContain(lazy);
    }
  });

  it('keeps the CLI out of src/api/: lint refuses a static or dynamic import of it from any depth of src/cli', async () => {
    const eslint = new ESLint({ cwd: PROJECT_ROOT });
    const refused = async (file: string, code: string): Promise<string[]> =>
      (await eslint.lintText(code, { filePath: path.join(PROJECT_ROOT, file) })).flatMap((result) => result.messages.map((message) => message.ruleId ?? ''));
    expect(await refused('src/cli/probe.ts', "export { seed } from '../api/local.js';\n")).toContain('no-restricted-imports');
    expect(await refused('src/cli/commands/probe.ts', "export const load = () => import('../../api/pool.js');\n")).toContain('no-restricted-syntax');
    expect(await refused('src/cli/commands/probe.ts', "export { seed } from '../../index.js';\n")).toEqual([]);
  });
});
