import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { local, query, urlFor } from '../support/db.js';
import { waitUntil } from '../support/interrupt.js';
import { makeProject, projectDatabases, type TestProject } from '../support/project.js';

// CLI tests run the built dist/ (npm test builds first; `npm run build` by hand).

interface Watching {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * The project's databases other than its layer templates and ready spares (kept on purpose, for
 * the next rebuild): what an interrupt must leave is exactly the template and the outputs.
 */
async function workingDatabases(project: TestProject): Promise<string[]> {
  const layerOrSpare = new RegExp(`^${project.templateName}__[0-9a-f]{12}$|__dbfast_spare_`);
  return (await projectDatabases(project)).filter((name) => !layerOrSpare.test(name)).sort();
}

function startWatch(project: TestProject, args: string[]): Watching {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const key of ['DBFAST_CONFIG', 'DATABASE_URL', 'DBFAST_DATABASE_URL']) delete env[key];
  const child = spawn(process.execPath, [CLI, ...args], { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

async function waitForLine(run: Watching, pattern: RegExp, from = 0): Promise<string> {
  let found = '';
  await waitUntil(
    `a line matching ${pattern}`,
    () => {
      found = run.stdout().slice(from).split('\n').find((line) => pattern.test(line)) ?? '';
      return found !== '';
    },
    { running: { child: run.child, stderr: () => `${run.stderr()}\nstdout:\n${run.stdout()}`, stdout: run.stdout, exited: run.exited }, timeoutMs: 40_000 },
  );
  return found;
}

async function items(database: string): Promise<string[]> {
  return (await query<{ name: string }>(urlFor(local.adminUrl, database), 'SELECT name FROM item ORDER BY id')).map((row) => row.name);
}

describe('dbfast watch (the real CLI process)', () => {
  it('prints one line per cycle, the file:line:column of a broken save, recovers, and exits 130 on Ctrl-C', async () => {
    const project = makeProject();
    const output = `${project.templateName}_wc_dev`;
    const run = startWatch(project, ['watch', '--output', output]);
    await waitForLine(run, /watching db\/ for local/);
    expect(run.stdout()).toMatch(new RegExp(`start: rebuilt ${project.template()} \\(2 files\\) in .*; refreshed ${output} in `));

    let mark = run.stdout().length;
    project.write('1_seed/010_items.sql', "INSERT INTO item VALUES (1, 'kettle'), (2, 'teapot'), (3, 'cup');\n");
    const line = await waitForLine(run, /changed 1_seed\/010_items\.sql: rebuilt/, mark);
    expect(line).toMatch(new RegExp(`rebuilt ${project.template()} \\(2 files\\) in [\\d.]+ m?s; refreshed ${output} in [\\d.]+ m?s; [\\d.]+ m?s after the save$`));
    expect(await items(output)).toEqual(['kettle', 'teapot', 'cup']);

    mark = run.stdout().length;
    project.write('1_seed/010_items.sql', "INSERT INTO item VALUES (1, 'a');\nINSERT INTO itme VALUES (2);\n");
    await waitForLine(run, /failed \(touched 1_seed\/010_items\.sql\): kept /, mark);
    await waitForLine(run, /^ {2}1_seed\/010_items\.sql:2:13: relation "itme" does not exist/, mark);
    expect(await items(output)).toEqual(['kettle', 'teapot', 'cup']);

    mark = run.stdout().length;
    project.write('1_seed/010_items.sql', "INSERT INTO item VALUES (9, 'bowl');\n");
    await waitForLine(run, /recovered: changed 1_seed\/010_items\.sql: rebuilt/, mark);
    expect(await items(output)).toEqual(['bowl']);

    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 130, signal: null });
    expect(await workingDatabases(project)).toEqual([project.template(), output].sort());
  });

  it('Ctrl-C in the middle of a rebuild exits 130 and leaves no side database; the template and the output stay', async () => {
    const project = makeProject();
    const output = `${project.templateName}_wc_int`;
    const run = startWatch(project, ['watch', '-o', output]);
    await waitForLine(run, /watching db\//);
    project.write('1_seed/020_slow.sql', 'SELECT pg_sleep(60);\n');
    await waitUntil('the rebuild runs the slow file in a side database', async () => {
      const rows = await query(local.adminUrl, "SELECT 1 FROM pg_stat_activity WHERE position('pg_sleep(60)' in query) > 0 AND pid <> pg_backend_pid() AND starts_with(datname, $1)", [project.templateName]);
      return rows.length > 0;
    });
    expect((await projectDatabases(project)).some((name) => name.includes('__dbfast_'))).toBe(true);
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 130, signal: null });
    expect(run.stderr()).toContain('interrupted (SIGINT)');
    expect(await workingDatabases(project)).toEqual([project.template(), output].sort());
    expect(await items(output)).toEqual(['kettle', 'teapot']);
  });

  it('seed --watch seeds, then watches; --json prints one event per line', async () => {
    const project = makeProject();
    const output = `${project.templateName}_wc_seed`;
    const run = startWatch(project, ['--json', 'seed', '--output', output, '--watch']);
    await waitUntil('the watching event', () => run.stdout().includes('"type":"watching"'), { running: { child: run.child, stderr: run.stderr, stdout: run.stdout, exited: run.exited } });
    project.write('0_schema/020_extra.sql', 'CREATE TABLE extra (id int);\n');
    await waitUntil('the refreshed event', () => run.stdout().includes('"initial":false'), { running: { child: run.child, stderr: run.stderr, stdout: run.stdout, exited: run.exited } });
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(130);
    const [seeded, ...lines] = run.stdout().trim().split(/\n(?=\{"type")/);
    expect(JSON.parse(seeded as string)).toMatchObject({ database: output, rebuilt: true });
    const events = lines.map((line) => JSON.parse(line) as { type: string; changes?: unknown; initial?: boolean; outputs?: unknown[] });
    expect(events.map((event) => event.type)).toEqual(['refreshed', 'watching', 'refreshed']);
    // At start the output, just seeded, already holds the template: nothing to refresh.
    expect(events[0]).toMatchObject({ initial: true, outputs: [] });
    expect(events[2]).toMatchObject({ changes: [{ file: '0_schema/020_extra.sql', change: 'added' }], outputs: [{ database: output, endedSessions: [] }] });
    expect(await query(urlFor(local.adminUrl, output), 'SELECT count(*)::int AS n FROM extra')).toEqual([{ n: 0 }]);
  });
});
