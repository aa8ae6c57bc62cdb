import { execFileSync } from 'node:child_process';
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { drop } from '../../src/local/drop.js';
import { decodeManifest } from '../../src/local/manifest.js';
import { seed } from '../../src/local/seed.js';
import { status } from '../../src/local/status.js';
import { loadConfig } from '../../src/config/load.js';
import { parseJson, runCli } from '../support/cli.js';
import { freshDatabase, local, query, urlFor } from '../support/db.js';
import { tempDir } from '../support/files.js';
import { isTemplate, makeProject } from '../support/project.js';

const env = { DBFAST_CONFIG: undefined, DATABASE_URL: undefined, DBFAST_DATABASE_URL: undefined };

describe('seed --force replaces only what dbfast made (issue 9.2)', () => {
  it('refuses a database dbfast did not make, with or without --force, and leaves it and its sessions alone', async () => {
    const project = makeProject();
    const foreign = await freshDatabase(local, `${project.templateName}_precious`);
    await query(foreign.url, 'CREATE TABLE precious (id int); INSERT INTO precious VALUES (42)');
    const holder = new pg.Client({ connectionString: foreign.url, application_name: 'someone working' });
    holder.on('error', () => undefined);
    await holder.connect();
    try {
      for (const force of [false, true]) {
        const error = await seed({ config: project.config(), output: foreign.name, force }).catch((e: unknown) => e);
        expect(error, `force ${force}`).toMatchObject({ code: 'NOT_MADE_BY_DBFAST', exitCode: 2 });
        expect((error as { hint: string }).hint).not.toMatch(/--force to/);
        expect((error as { hint: string }).hint).toContain('dropdb');
      }
      // The session was not terminated, the data is there.
      expect((await holder.query('SELECT id FROM precious')).rows).toEqual([{ id: 42 }]);
    } finally {
      await holder.end().catch(() => undefined);
    }
    const cli = await runCli(['--json', 'seed', '--output', foreign.name, '--force'], { cwd: project.dir, env });
    expect(cli.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string } }>(cli).error.code).toBe('NOT_MADE_BY_DBFAST');
    expect(await query(foreign.url, 'SELECT id FROM precious')).toEqual([{ id: 42 }]);
  });

  it("recommends --force only for this project's clones, and replaces those", async () => {
    const project = makeProject();
    const name = `${project.templateName}_c_mine`;
    await seed({ config: project.config(), output: name });
    await query(urlFor(local.adminUrl, name), "INSERT INTO item VALUES (9, 'scribble')");
    const exists = await seed({ config: project.config(), output: name }).catch((e: unknown) => e);
    expect(exists).toMatchObject({ code: 'DATABASE_EXISTS', hint: expect.stringContaining('--force') });
    await seed({ config: project.config(), output: name, force: true });
    expect(await query(urlFor(local.adminUrl, name), 'SELECT count(*)::int AS n FROM item')).toEqual([{ n: 2 }]);
  });

  it("refuses to replace or drop another project's clone", async () => {
    const mine = makeProject();
    const theirs = makeProject();
    const name = `${theirs.templateName}_c_theirs`;
    await seed({ config: theirs.config(), output: name });
    const replaced = await seed({ config: mine.config(), output: name, force: true }).catch((e: unknown) => e);
    expect(replaced).toMatchObject({ code: 'DATABASE_OWNED_ELSEWHERE', exitCode: 2 });
    const dropped = await drop({ config: mine.config(), names: [name] }).catch((e: unknown) => e);
    expect(dropped).toMatchObject({ code: 'DATABASE_OWNED_ELSEWHERE', exitCode: 2 });
    expect(await query(urlFor(local.adminUrl, name), 'SELECT count(*)::int AS n FROM item')).toEqual([{ n: 2 }]);
  });
});

describe('a template belongs to the project that built it (issue 10.8)', () => {
  it("two projects with the same template_name: the second refuses to rebuild the first's template, and status says who owns it", async () => {
    const first = makeProject();
    const second = makeProject();
    // Same template_name, other folder: exactly the README walkthrough next to dbfast.toml.example.
    const secondConfig = (): ReturnType<typeof second.config> => ({ ...second.config(), database: { ...second.config().database, templateName: first.templateName } });
    second.write('1_seed/020_other.sql', "INSERT INTO item VALUES (3, 'other');\n");
    const built = await buildTemplate({ config: first.config() });
    expect(built.manifest.owner).toMatchObject({ path: first.dir });
    const error = await buildTemplate({ config: secondConfig() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TEMPLATE_OWNED_ELSEWHERE', exitCode: 2 });
    expect((error as Error).message).toContain(first.dir);
    expect((error as { hint: string }).hint).toContain('template_name');
    expect(decodeManifest((await isTemplate(first.template()))?.comment)?.builtAt).toBe(built.manifest.builtAt);
    const seeded = await seed({ config: secondConfig(), output: `${first.templateName}_c_second` }).catch((e: unknown) => e);
    expect(seeded).toMatchObject({ code: 'TEMPLATE_OWNED_ELSEWHERE' });

    const theirs = await status({ config: secondConfig() });
    expect(theirs.upToDate).toBe(false);
    expect(theirs.environments[0]).toMatchObject({ owner: { path: first.dir }, problem: expect.stringContaining(first.dir) });
    const own = await status({ config: first.config() });
    expect(own.environments[0]).toMatchObject({ state: 'fresh', owner: { path: first.dir }, problem: null });
  });

  it('in git, the project is the repository: its worktrees (the webhook deploys from one per commit) share templates, another clone does not', async () => {
    const project = makeProject();
    const git = (cwd: string, ...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8' });
    git(project.dir, 'init', '--quiet');
    git(project.dir, 'add', '.');
    git(project.dir, 'commit', '--quiet', '-m', 'project');
    await buildTemplate({ config: project.config(), background: 'wait' });
    const worktree = path.join(tempDir(), 'worktree');
    git(project.dir, 'worktree', 'add', '--quiet', '--detach', worktree);
    const fromWorktree = loadConfig({ configPath: path.join(worktree, 'dbfast.toml'), env: {} });
    expect((await buildTemplate({ config: fromWorktree, force: true, background: 'wait' })).rebuilt).toBe(true);
    const clone = path.join(tempDir(), 'clone');
    git(project.dir, 'clone', '--quiet', project.dir, clone);
    const fromClone = loadConfig({ configPath: path.join(clone, 'dbfast.toml'), env: {} });
    await expect(buildTemplate({ config: fromClone, force: true })).rejects.toMatchObject({ code: 'TEMPLATE_OWNED_ELSEWHERE' });
  });

  it('stays the owner when its folder moves, and when its .dbfast folder is deleted', async () => {
    const project = makeProject();
    await buildTemplate({ config: project.config() });
    rmSync(path.join(project.dir, '.dbfast'), { recursive: true, force: true });
    project.write('1_seed/020_more.sql', "INSERT INTO item VALUES (3, 'mug');\n");
    // `wait`: no background worker still writing its log into the folder when it moves.
    expect((await buildTemplate({ config: project.config(), background: 'wait' })).rebuilt).toBe(true);
    const moved = `${project.dir}-moved`;
    renameSync(project.dir, moved);
    try {
      const config = loadConfig({ configPath: path.join(moved, 'dbfast.toml'), env: {} });
      expect((await status({ config })).environments[0]).toMatchObject({ state: 'fresh', problem: null });
      expect((await buildTemplate({ config, force: true, background: 'wait' })).rebuilt).toBe(true);
    } finally {
      renameSync(moved, project.dir);
    }
  });
});
