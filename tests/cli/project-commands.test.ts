import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import { tempDir, writeTree } from '../support/files.js';

const REPOSITORY = {
  'db/0_schema/010_tables.sql': 'create table t (id int);\n',
  'db/1_seed_common/010_rows.sql': 'insert into t values (1);\n',
  'db/2_seed_backend/010_more.sql': 'insert into t values (2);\n',
  'db/10_views/010_v.sql': 'create view v as select * from t;\n',
  'db/6_migration/001_add.sql': 'alter table t add column x int;\n',
};

describe('dbfast init (CLI)', () => {
  it('writes dbfast.toml in the current folder and reports it as JSON', async () => {
    const dir = writeTree(tempDir(), REPOSITORY);
    const result = await runCli(['init', '--json', '--template-name', 'shop'], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(parseJson(result)).toEqual({
      config: path.join(dir, 'dbfast.toml'),
      repository: 'db',
      template_name: 'shop',
      files: 5,
      environments: {
        local: { include_directories: ['0_schema', '1_seed_common', '2_seed_backend', '6_migration', '10_views'], files: 5 },
        production: { include_directories: ['0_schema', '6_migration', '10_views'], files: 3 },
      },
      notes: [],
      gitignore: { path: path.join(dir, '.gitignore'), action: 'created' },
    });
    expect(readFileSync(path.join(dir, 'dbfast.toml'), 'utf8')).toContain('template_name = "shop"');
  });

  it('says what it wrote, refuses to overwrite without --force (exit 2 with a hint)', async () => {
    const dir = writeTree(tempDir(), REPOSITORY);
    const first = await runCli(['init', '--repo-dir', 'db'], { cwd: dir });
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain(`wrote ${path.join(dir, 'dbfast.toml')}`);
    expect(first.stdout).toMatch(/production: +0_schema, 6_migration, 10_views \(3 files\)/);
    writeFileSync(path.join(dir, 'dbfast.toml'), '# hand-edited\n');
    const second = await runCli(['init'], { cwd: dir });
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain('already exists');
    expect(second.stderr).toMatch(/hint: .*--force/);
    expect(readFileSync(path.join(dir, 'dbfast.toml'), 'utf8')).toBe('# hand-edited\n');
    const forced = await runCli(['init', '--force'], { cwd: dir });
    expect(forced.exitCode).toBe(0);
    expect(forced.stdout).toContain('replaced');
  });

  it('explains what it expects in a folder with no SQL (exit 2) and writes nothing', async () => {
    const dir = writeTree(tempDir(), { 'notes.txt': 'hi' });
    const result = await runCli(['init'], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no .sql files in');
    expect(result.stderr).toMatch(/hint: dbfast expects a folder of numbered SQL folders.*0_schema/);
    expect(existsSync(path.join(dir, 'dbfast.toml'))).toBe(false);
  });

  it('never echoes a password given in --database-url', async () => {
    const dir = writeTree(tempDir(), REPOSITORY);
    const result = await runCli(['init', '--json', '--database-url', 'postgresql://app:TopSecret1@localhost/app'], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string } }>(result).error.code).toBe('PASSWORD_IN_CONFIG');
    expect(result.stdout + result.stderr).not.toContain('TopSecret1');
  });
});

describe('dbfast environments and validate-env (CLI)', () => {
  async function initialised(): Promise<string> {
    const dir = writeTree(tempDir(), REPOSITORY);
    expect((await runCli(['init'], { cwd: dir })).exitCode).toBe(0);
    return dir;
  }

  it('lists environments and shows files in run order (10_views after 6_migration), from a nested folder', async () => {
    const dir = await initialised();
    const nested = path.join(dir, 'db', '0_schema');
    const list = await runCli(['environments', '--json'], { cwd: nested });
    expect(parseJson(list)).toEqual({
      environments: [
        { name: 'local', files: 5, production: false },
        { name: 'production', files: 3, production: true },
      ],
    });
    const show = await runCli(['environments', 'show', 'production', '--json'], { cwd: nested });
    expect(parseJson(show)).toEqual({
      environment: 'production',
      files: [
        { path: '0_schema/010_tables.sql', size: 25 },
        { path: '6_migration/001_add.sql', size: 32 },
        { path: '10_views/010_v.sql', size: 34 },
      ],
      included: [],
    });
    const human = await runCli(['environments', 'show', 'local'], { cwd: dir });
    expect(human.exitCode).toBe(0);
    const order = human.stdout.split('\n').filter((line) => /^\s*\d+ /.test(line)).map((line) => line.trim().split(/\s+/)[1]);
    expect(order).toEqual(['0_schema/010_tables.sql', '1_seed_common/010_rows.sql', '2_seed_backend/010_more.sql', '6_migration/001_add.sql', '10_views/010_v.sql']);
    const unknown = await runCli(['environments', 'show', 'staging'], { cwd: dir });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no environment named "staging"');
  });

  it('validate-env passes a fresh init (exit 0) and reports problems with exit 3', async () => {
    const dir = await initialised();
    const ok = await runCli(['validate-env', '--json'], { cwd: dir });
    expect(ok.exitCode).toBe(0);
    expect(parseJson(ok)).toEqual({
      ok: true,
      environments: [
        { name: 'local', files: 5, production: false, problems: [] },
        { name: 'production', files: 3, production: true, problems: [] },
      ],
    });
    const file = path.join(dir, 'dbfast.toml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('include_directories = ["0_schema", "6_migration", "10_views"]', 'include_directories = ["0_schema", "1_seed_common", "7_gone"]'),
    );
    const bad = await runCli(['validate-env', '--json'], { cwd: dir });
    expect(bad.exitCode).toBe(3);
    const report = parseJson<{ ok: boolean; environments: Array<{ name: string; problems: Array<{ kind: string; path?: string }> }> }>(bad);
    expect(report.ok).toBe(false);
    expect(report.environments[1]?.problems).toEqual([
      expect.objectContaining({ kind: 'missing_directory', path: '7_gone' }),
      expect.objectContaining({ kind: 'production_guard', path: '1_seed_common/010_rows.sql' }),
    ]);
    const human = await runCli(['validate-env', '--env', 'production'], { cwd: dir });
    expect(human.exitCode).toBe(3);
    expect(human.stdout).toContain('production: 2 files, 2 problems');
    expect(human.stdout).toContain('"7_gone", which does not exist');
    const local = await runCli(['validate-env', '-e', 'local'], { cwd: dir });
    expect(local).toMatchObject({ exitCode: 0, stdout: 'local: 5 files, ok\n' });
    const shown = await runCli(['environments', 'show', 'production'], { cwd: dir });
    expect(shown.exitCode).toBe(0);
    expect(shown.stderr).toContain('warning: 1 of these files looks like development or test data');
  });
});
