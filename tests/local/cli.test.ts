import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, parseJson, runCli } from '../support/cli.js';
import { databasesLike, freshDatabase, local, query } from '../support/db.js';
import { makeProject, projectDatabases } from '../support/project.js';

// CLI tests run the built dist/ (npm test builds first; `npx tsc -p tsconfig.build.json` by hand).
const env = { DBFAST_CONFIG: undefined, DATABASE_URL: undefined, DBFAST_DATABASE_URL: undefined };

describe('dbfast seed / build / status / list / drop (CLI)', () => {
  const password = 'cli-s3cret';

  it('seed --json prints exactly the documented fields, with no password in the URL', async () => {
    const url = new URL(local.adminUrl);
    url.password = password;
    const project = makeProject({ url: url.toString() });
    const name = `${project.templateName}_c_cli`;
    const result = await runCli(['--json', 'seed', '--output', name], { cwd: project.dir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    const json = parseJson(result);
    expect(Object.keys(json).sort()).toEqual(['cloneMs', 'database', 'durationMs', 'environment', 'fromPool', 'rebuildMs', 'rebuilt', 'refill', 'template', 'url'].sort());
    // The whole command's time covers the template build it did first, whose share is given apart.
    expect(json.rebuildMs).toBeGreaterThan(0);
    expect(json.durationMs).toBeGreaterThanOrEqual((json.rebuildMs as number) + (json.cloneMs as number));
    expect(json).toMatchObject({ fromPool: false, refill: true });
    expect(json).toMatchObject({ database: name, template: project.template(), environment: 'local', rebuilt: true });
    // No secret and no mask: a script can connect with the URL as printed (the password from where it came).
    expect(json.url).not.toContain('***');
    expect(json.url).not.toContain(password);
    const psql = spawnSync('psql', ['-X', '-At', '-c', 'SELECT current_database()', json.url as string], { encoding: 'utf8', env: { ...process.env, PGPASSWORD: password } });
    expect(psql.status, psql.stderr).toBe(0);
    expect(psql.stdout.trim()).toBe(name);
    expect(result.stdout + result.stderr).not.toContain(password);
    const again = await runCli(['--json', 'seed', '-o', name], { cwd: project.dir, env });
    expect(again.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string; hint: string } }>(again).error).toMatchObject({ code: 'DATABASE_EXISTS' });
  });

  it('seeds of one --output at the same time: one makes it, the others say it exists; with --force each replaces it in turn', async () => {
    const project = makeProject();
    const built = await runCli(['build'], { cwd: project.dir, env });
    expect(built.exitCode, built.stderr).toBe(0);
    const name = `${project.templateName}_c_race`;
    const plain = await Promise.all([1, 2, 3].map(() => runCli(['--json', 'seed', '--output', name], { cwd: project.dir, env })));
    expect(plain.map((run) => run.exitCode).sort(), plain.map((run) => run.stdout + run.stderr).join('\n')).toEqual([0, 2, 2]);
    for (const run of plain.filter((r) => r.exitCode === 2)) {
      expect(parseJson<{ error: { code: string } }>(run).error.code, run.stdout).toBe('DATABASE_EXISTS');
    }
    const forced = await Promise.all([1, 2, 3].map(() => runCli(['--json', 'seed', '--force', '--output', name], { cwd: project.dir, env })));
    expect(forced.map((run) => run.exitCode), forced.map((run) => run.stdout + run.stderr).join('\n')).toEqual([0, 0, 0]);
    // No side database left behind (the pool's ready databases, its queue of drops and spares are kept on purpose).
    expect((await projectDatabases(project)).filter((database) => /__dbfast_(?!ready_|trash_|spare_)/.test(database))).toEqual([]);
  });

  it('seed prints the URL on stdout and what it did on stderr', async () => {
    const project = makeProject();
    const name = `${project.templateName}_c_human`;
    const result = await runCli(['seed', '--output', name], { cwd: project.dir, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^postgres(ql)?://.*/${name}(\\?|$)`))]);
    expect(result.stderr).toContain(`created ${name} from ${project.template()}`);
  });

  it('seed prints the time of the whole command, the template rebuild it did first included (and its share apart)', async () => {
    // A build that takes a while: the clone alone would be reported as a few ms.
    const project = makeProject({ files: { '0_schema/010_slow.sql': 'SELECT pg_sleep(0.3);\nCREATE TABLE item (id int);\n' } });
    const name = `${project.templateName}_c_took`;
    // No seed pool: the second seed must clone too (a background refill would otherwise hand it a ready copy, or not).
    const noPool = { ...env, DBFAST_POOL_SIZE: '0' };
    const result = await runCli(['seed', '--output', name], { cwd: project.dir, env: noPool });
    expect(result.exitCode, result.stderr).toBe(0);
    const line = /created \S+ from \S+ in ([\d.]+) (ms|s) \(template rebuilt first: ([\d.]+) (ms|s)\)/.exec(result.stderr);
    expect(line, result.stderr).not.toBeNull();
    const ms = (value: string | undefined, unit: string | undefined): number => Number(value) * (unit === 's' ? 1000 : 1);
    const [whole, rebuild] = [ms(line?.[1], line?.[2]), ms(line?.[3], line?.[4])];
    // The build ran pg_sleep(0.3): what it says it waited is at least that, and the whole is at least its rebuild.
    expect(rebuild).toBeGreaterThanOrEqual(300);
    expect(whole).toBeGreaterThanOrEqual(rebuild);
    const again = await runCli(['seed', '--output', `${name}2`], { cwd: project.dir, env: noPool });
    expect(again.stderr).toMatch(new RegExp(`created ${name}2 from \\S+ in [\\d.]+ m?s\n`));
  });

  it('an unchanged dbfast.toml skips re-validation, but an edited invalid one is still reported', async () => {
    const project = makeProject();
    const first = await runCli(['seed', '-o', `${project.templateName}_c_v1`], { cwd: project.dir, env });
    expect(first.exitCode, first.stderr).toBe(0);
    writeFileSync(project.configPath, `[database]\nurl = "${local.adminUrl}"\ntemplate_name = "${project.templateName}"\nbogus_key = 1\n`);
    const broken = await runCli(['--json', 'seed', '-o', `${project.templateName}_c_v2`], { cwd: project.dir, env });
    expect(broken.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string; message: string } }>(broken).error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(parseJson<{ error: { message: string } }>(broken).error.message).toContain('bogus_key');
  });

  it('status --check exits 3 while a template is missing or stale, 0 when fresh', async () => {
    const project = makeProject();
    const missing = await runCli(['--json', 'status', '--check'], { cwd: project.dir, env });
    expect(missing.exitCode).toBe(3);
    expect(parseJson<{ environments: Array<{ state: string }> }>(missing).environments[0]?.state).toBe('missing');
    const build = await runCli(['--json', 'build'], { cwd: project.dir, env });
    expect(build.exitCode, build.stderr).toBe(0);
    expect(parseJson(build)).toMatchObject({ template: project.template(), rebuilt: true, reused: false, files: 2 });
    const fresh = await runCli(['status', '--check'], { cwd: project.dir, env });
    expect(fresh.exitCode).toBe(0);
    expect(fresh.stdout).toContain('local: fresh');
    project.write('1_seed/020_more.sql', 'SELECT 1;\n');
    const stale = await runCli(['status', '--check'], { cwd: project.dir, env });
    expect(stale.exitCode).toBe(3);
    expect(stale.stdout).toContain('added     1_seed/020_more.sql');
    const noCheck = await runCli(['status'], { cwd: project.dir, env });
    expect(noCheck.exitCode).toBe(0);
  });

  it('status --remote with a remote the config does not define is a config error (exit 2); tests/hooks covers real remotes', async () => {
    const project = makeProject();
    const result = await runCli(['status', '--remote', 'staging'], { cwd: project.dir, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no remote named "staging"');
  });

  it('list and drop: drop refuses a foreign database with exit 2', async () => {
    const project = makeProject();
    const foreign = await freshDatabase(local, `${project.templateName}_foreign`);
    const name = `${project.templateName}_c_x`;
    expect((await runCli(['seed', '-o', name], { cwd: project.dir, env })).exitCode).toBe(0);
    const listed = await runCli(['list'], { cwd: project.dir, env });
    expect(listed.stdout).toMatch(new RegExp(`${name}\\s+clone\\s+local\\s+${project.template()}`));
    expect(listed.stdout).not.toContain(foreign.name);
    const refused = await runCli(['drop', foreign.name], { cwd: project.dir, env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('dbfast did not make it');
    expect(await databasesLike(local, foreign.name)).toEqual([foreign.name]);
    const dropped = await runCli(['--json', 'drop', '--all-clones'], { cwd: project.dir, env });
    expect(parseJson(dropped)).toEqual({ dropped: [{ name, kind: 'clone' }], kept: [] });
  });

  it('an interrupted build drops its side database and exits 130', async () => {
    const project = makeProject();
    project.write('1_seed/050_slow.sql', 'SELECT pg_sleep(30);\n');
    const child = spawn(process.execPath, [CLI, 'build'], { cwd: project.dir, env: { ...process.env, DBFAST_CONFIG: undefined }, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Interrupt while the slow file runs (with the psql runner, a child process is alive then too).
    const running = async (): Promise<boolean> =>
      (await query(local.adminUrl, "SELECT 1 FROM pg_stat_activity WHERE starts_with(datname, $1) AND query LIKE '%pg_sleep(30)%'", [project.templateName])).length > 0;
    const deadline = Date.now() + 30_000;
    while (!(await running()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await projectDatabases(project))[0]).toMatch(/__dbfast_build_[0-9a-f]{8}$/);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await projectDatabases(project)).toEqual([]);
  });
});
