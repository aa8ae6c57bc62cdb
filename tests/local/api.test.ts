import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { build, drop, DbfastError, list, loadConfig, seed, status } from '../../src/index.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { local, query, urlFor } from '../support/db.js';
import { makeProject } from '../support/project.js';

function runNode(script: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('library API', () => {
  it('build, status, seed, list and drop load the config themselves from configPath', async () => {
    const project = makeProject();
    const configPath = project.configPath;
    expect((await status({ configPath })).environments[0]?.state).toBe('missing');
    expect((await build({ configPath })).rebuilt).toBe(true);
    const name = `${project.templateName}_c_api`;
    const seeded = await seed({ configPath, output: name });
    expect(seeded).toMatchObject({ database: name, rebuilt: false });
    expect(await query(urlFor(local.adminUrl, name), 'SELECT count(*)::int AS n FROM item')).toEqual([{ n: 2 }]);
    expect((await list({ cwd: project.dir })).databases.map((d) => d.name)).toContain(name);
    expect((await drop({ config: await loadConfig({ configPath }), names: [name] })).dropped).toEqual([{ name, kind: 'clone' }]);
    const error = await seed({ configPath, output: project.template() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbfastError);
  });

  it("is importable by package name ('dbfast') from the built dist", async () => {
    const project = makeProject();
    const name = `${project.templateName}_c_pkg`;
    const script = `
      import { seed, build, status, list, drop, DbfastError, loadConfig } from 'dbfast';
      const fns = [seed, build, status, list, drop, loadConfig].map((f) => typeof f);
      const result = await seed({ configPath: ${JSON.stringify(project.configPath)}, output: ${JSON.stringify(name)} });
      console.log(JSON.stringify({ fns, error: typeof DbfastError, result }));
    `;
    const run = await runNode(script, PROJECT_ROOT);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { fns: string[]; error: string; result: { database: string; rebuilt: boolean } };
    expect(out.fns).toEqual(Array(6).fill('function'));
    expect(out.error).toBe('function');
    expect(out.result).toMatchObject({ database: name, rebuilt: true });
  });
});
