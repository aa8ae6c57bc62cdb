import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { assertProductionSafe, filterFiles } from '../../src/project/filter.js';
import { initProject } from '../../src/api/project.js';
import { deriveTemplateName } from '../../src/project/init.js';
import { environmentFiles } from '../../src/project/environments.js';
import { scanRepository } from '../../src/project/scan.js';
import { parseJson, PROJECT_ROOT, runCli } from '../support/cli.js';
import { tempDir, writeTree } from '../support/files.js';

const NUMBERED = {
  '0_schema/010_tables.sql': 'create table t (id int);',
  '0_schema/020_views.sql': 'create view v as select * from t;',
  '1_seed_common/010_rows.sql': 'insert into t values (1);',
  '2_seed_backend/010_more.sql': 'insert into t values (2);',
  '3_test_data/010_cases.sql': 'insert into t values (3);',
  '6_migration/001_add.sql': 'alter table t add column x int;',
  'README.md': 'docs',
};

/** Loads what init wrote and checks the production guard the way build/deploy will. */
async function loadWritten(dir: string) {
  const config = loadConfig({ cwd: dir, env: {} });
  const files = await scanRepository(config.repository.path);
  for (const environment of Object.values(config.environments)) assertProductionSafe(config, environment, filterFiles(files, environment));
  return config;
}

describe('dbfast init on a folder of numbered SQL folders', () => {
  it('writes a dbfast.toml that loads, with local = everything and production = schema + migrations', async () => {
    const dir = writeTree(tempDir('shop-'), NUMBERED);
    const result = await initProject({ cwd: dir });
    expect(result.configPath).toBe(path.join(dir, 'dbfast.toml'));
    expect(result.repositoryRelative).toBe('.');
    expect(result.files).toBe(6);
    expect(result.environments).toEqual({
      local: { include_directories: ['0_schema', '1_seed_common', '2_seed_backend', '3_test_data', '6_migration'], files: 6 },
      production: { include_directories: ['0_schema', '6_migration'], files: 3 },
    });

    const config = await loadWritten(dir);
    expect(config.repository.path).toBe(dir);
    expect(config.database.templateName).toBe(result.templateName);
    expect((await environmentFiles(config, 'production')).map((file) => file.relativePath)).toEqual([
      '0_schema/010_tables.sql',
      '0_schema/020_views.sql',
      '6_migration/001_add.sql',
    ]);
    expect((await environmentFiles(config, 'local')).length).toBe(6);
    const text = readFileSync(result.configPath, 'utf8');
    expect(text).toMatch(/^# dbfast\.toml:/);
    expect(text).toContain('#   3_test_data/ (1 file): test data, not in production');
  });

  it('suggests only keys the loader accepts: each commented `key = value` under [backup] loads when uncommented', async () => {
    const dir = writeTree(tempDir('keys-'), NUMBERED);
    const result = await initProject({ cwd: dir });
    const text = readFileSync(result.configPath, 'utf8');
    const backup = text.slice(text.indexOf('[backup]'));
    const suggested = backup.split('\n').filter((line) => /^# [a-z_]+ = /.test(line));
    // keep_last, not `keep` (its old name, still read but no longer documented)
    expect(suggested.map((line) => line.split(' ')[1])).toContain('keep_last');
    for (const line of suggested) {
      writeFileSync(result.configPath, text.replace(line, line.slice(2)));
      expect(() => loadConfig({ cwd: dir, env: {} }), line).not.toThrow();
    }
  });

  it('derives the template name from the folder name, using identifier characters only', async () => {
    const dir = writeTree(tempDir('My Shop-'), NUMBERED);
    const result = await initProject({ cwd: dir });
    expect(result.templateName).toMatch(/^my_shop_[a-z0-9_]+$/);
    expect(deriveTemplateName('/work/2024 Billing!', '/work/2024 Billing!/db')).toBe('db_2024_billing');
    expect(deriveTemplateName('/', '/db')).toBe('dbfast');
    expect(deriveTemplateName('/srv/db', '/srv/db')).toBe('srv');
    expect(deriveTemplateName(`/x/${'a'.repeat(60)}`, '/x')).toHaveLength(40);
  });

  it('writes --template-name and --database-url, and refuses invalid ones before writing anything', async () => {
    const dir = writeTree(tempDir(), NUMBERED);
    await expect(initProject({ cwd: dir, templateName: 'my-shop' })).rejects.toMatchObject({ code: 'TEMPLATE_NAME_INVALID', exitCode: 2 });
    await expect(initProject({ cwd: dir, databaseUrl: 'mysql://x/y' })).rejects.toMatchObject({ code: 'DATABASE_URL_INVALID', exitCode: 2 });
    const withPassword = initProject({ cwd: dir, databaseUrl: 'postgresql://app:s3cret@localhost/app' });
    await expect(withPassword).rejects.toMatchObject({ code: 'PASSWORD_IN_CONFIG', exitCode: 2 });
    await expect(withPassword).rejects.not.toThrow(/s3cret/);
    await expect(loadWritten(dir)).rejects.toMatchObject({ code: 'CONFIG_NOT_FOUND' });

    await initProject({ cwd: dir, templateName: 'shop', databaseUrl: 'postgresql://app@db.local:5433/app' });
    const config = await loadWritten(dir);
    expect(config.database).toMatchObject({ templateName: 'shop', url: 'postgresql://app@db.local:5433/app' });
  });

  it('refuses to overwrite dbfast.toml without --force (exit 2, with a hint), and replaces it with force', async () => {
    const dir = writeTree(tempDir(), { ...NUMBERED, 'dbfast.toml': '# mine\n' });
    const refused = initProject({ cwd: dir });
    await expect(refused).rejects.toMatchObject({ code: 'CONFIG_EXISTS', exitCode: 2, hint: expect.stringContaining('--force') });
    expect(readFileSync(path.join(dir, 'dbfast.toml'), 'utf8')).toBe('# mine\n');
    const result = await initProject({ cwd: dir, force: true });
    expect(result.overwritten).toBe(true);
    expect(readFileSync(path.join(dir, 'dbfast.toml'), 'utf8')).toContain('[environments.production]');
  });

  // Issue 10 item 14: --force used to drop the remotes of the replaced file without a word.
  it('init --force keeps the file it replaces (remotes and all) next to it and says where', async () => {
    const previous = '# mine\n[environments.local]\n\n[remotes.staging]\nurl = "postgresql://app@staging.example.com/shop"\nenvironment = "local"\n';
    const dir = writeTree(tempDir(), { ...NUMBERED, 'dbfast.toml': previous });
    const first = await initProject({ cwd: dir, force: true });
    expect(first.previousConfigCopy).toMatch(/dbfast\.toml\.\d{8}T\d{6}Z(-\d+)?\.bak$/);
    expect(readFileSync(first.previousConfigCopy as string, 'utf8')).toBe(previous);
    // A second --force in the same second keeps the first copy and makes another.
    const second = await initProject({ cwd: dir, force: true });
    expect(second.previousConfigCopy).not.toBe(first.previousConfigCopy);
    expect(readFileSync(first.previousConfigCopy as string, 'utf8')).toBe(previous);
    const cli = await runCli(['init', '--force'], { cwd: dir, env: { DBFAST_CONFIG: undefined } });
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^replaced .*dbfast\.toml \(the previous file is kept as .*dbfast\.toml\.\d{8}T\d{6}Z(-\d+)?\.bak\)$/m);
    const json = parseJson<{ previous_config: string | null }>(await runCli(['--json', 'init', '--force'], { cwd: dir, env: { DBFAST_CONFIG: undefined } }));
    expect(readFileSync(json.previous_config as string, 'utf8')).toContain('[environments.production]');
    const fresh = writeTree(tempDir(), NUMBERED);
    expect((await initProject({ cwd: fresh })).previousConfigCopy).toBeNull();
  });

  it('explains what it expects in a folder without .sql files (exit 2)', async () => {
    const dir = writeTree(tempDir(), { 'README.md': 'hello', 'src/index.ts': '' });
    await expect(initProject({ cwd: dir })).rejects.toMatchObject({
      code: 'NO_SQL_FILES',
      exitCode: 2,
      hint: expect.stringContaining('0_schema'),
    });
    await expect(initProject({ cwd: dir, repoDir: 'missing' })).rejects.toMatchObject({ code: 'REPOSITORY_NOT_FOUND', exitCode: 2 });
  });
});

describe('dbfast init finding the SQL', () => {
  it('finds numbered folders one level down (db/0_schema from the project root)', async () => {
    const root = writeTree(
      tempDir(),
      Object.fromEntries([...Object.entries(NUMBERED).map(([file, sql]) => [`db/${file}`, sql]), ['src/queries/report.sql', 'select 1;']]),
    );
    const result = await initProject({ cwd: root });
    expect(result.repositoryRelative).toBe('db');
    expect(result.environments.production?.include_directories).toEqual(['0_schema', '6_migration']);
    const config = await loadWritten(root);
    expect(config.repository.path).toBe(path.join(root, 'db'));
    expect(result.notes).toEqual([]);
  });

  it('with --repo-dir, writes the config in the current folder with repository.path relative to it', async () => {
    const root = writeTree(tempDir(), Object.fromEntries(Object.entries(NUMBERED).map(([file, sql]) => [`database/sql/${file}`, sql])));
    const result = await initProject({ cwd: root, repoDir: 'database/sql' });
    expect(result.configPath).toBe(path.join(root, 'dbfast.toml'));
    expect(result.repositoryRelative).toBe('database/sql');
    expect(result.templateName).not.toBe('sql');
    const config = await loadWritten(root);
    expect((await environmentFiles(config, 'production')).length).toBe(3);
  });

  it('picks the folder with the most numbered SQL folders and names the others', async () => {
    const root = writeTree(tempDir(), {
      'db/0_schema/a.sql': '',
      'db/1_seed/b.sql': '',
      'db/6_migration/c.sql': '',
      'legacy/0_old/a.sql': '',
    });
    const result = await initProject({ cwd: root });
    expect(result.repositoryRelative).toBe('db');
    expect(result.notes).toEqual([expect.stringContaining(`also found SQL folders in ${path.join(root, 'legacy')}`)]);
  });

  it('handles unnumbered folders and SQL files directly in the repository', async () => {
    const dir = writeTree(tempDir(), {
      'schema.sql': 'create table t (id int);',
      'dev_seed.sql': 'insert into t values (1);',
      'schema/tables.sql': '',
      'seeds/rows.sql': '',
      'Extra.SQL': '',
    });
    const result = await initProject({ cwd: dir });
    expect(result.environments).toEqual({
      local: { include_directories: ['schema', 'seeds'], include_files: ['*.[sS][qQ][lL]'], files: 5 },
      production: { include_directories: ['schema'], include_files: ['*.[sS][qQ][lL]'], exclude_files: ['dev_seed.sql'], files: 3 },
    });
    const config = await loadWritten(dir);
    expect((await environmentFiles(config, 'production')).map((file) => file.relativePath)).toEqual(['Extra.SQL', 'schema/tables.sql', 'schema.sql']);
  });

  it('leaves single files that look like test data out of production folders, escaping glob characters', async () => {
    const dir = writeTree(tempDir(), {
      '0_schema/010_tables.sql': '',
      '0_schema/020_devices.sql': '',
      '0_schema/900_test_helpers[old].sql': '',
      '6_migration/001.sql': '',
    });
    const result = await initProject({ cwd: dir });
    expect(result.environments.production).toEqual({
      include_directories: ['0_schema', '6_migration'],
      exclude_files: ['0_schema/900_test_helpers\\[old\\].sql'],
      files: 3,
    });
    expect(result.notes).toEqual([expect.stringContaining('0_schema/900_test_helpers[old].sql')]);
    const config = await loadWritten(dir);
    expect((await environmentFiles(config, 'production')).map((file) => file.relativePath)).toEqual([
      '0_schema/010_tables.sql',
      '0_schema/020_devices.sql',
      '6_migration/001.sql',
    ]);
  });

  it('writes no production environment when every folder is seed or test data', async () => {
    const dir = writeTree(tempDir(), { '1_seed/a.sql': '', '2_tests/b.sql': '' });
    const result = await initProject({ cwd: dir });
    expect(Object.keys(result.environments)).toEqual(['local']);
    expect(result.notes).toEqual([expect.stringContaining('no production environment')]);
    const config = await loadWritten(dir);
    expect(Object.keys(config.environments)).toEqual(['local']);
    expect(readFileSync(result.configPath, 'utf8')).toContain('# No production environment');
  });

  it('keeps $ and quotes in folder names literal', async () => {
    const dir = writeTree(tempDir(), { '0_${HOME}"x/a.sql': '', '1_seed/b.sql': '' });
    await initProject({ cwd: dir });
    const config = await loadWritten(dir);
    expect(config.environments.local?.include_directories).toEqual(['0_${HOME}"x', '1_seed']);
    expect((await environmentFiles(config, 'production')).map((file) => file.relativePath)).toEqual(['0_${HOME}"x/a.sql']);
  });
});

describe('dbfast init on the project fixture', () => {
  it('proposes the same environments as dbfast.toml.example for fixtures/app/db', async () => {
    const dir = tempDir();
    cpSync(path.join(PROJECT_ROOT, 'fixtures/app'), path.join(dir, 'app'), { recursive: true });
    const result = await initProject({ cwd: path.join(dir, 'app') });
    expect(result).toMatchObject({ repositoryRelative: 'db', templateName: 'app', files: 6 });
    const written = await loadWritten(path.join(dir, 'app'));
    const example = loadConfig({ configPath: path.join(PROJECT_ROOT, 'dbfast.toml.example'), env: {} });
    for (const name of ['local', 'production']) {
      expect(written.environments[name]?.include_directories).toEqual(example.environments[name]?.include_directories);
      expect((await environmentFiles(written, name)).map((f) => f.relativePath)).toEqual(
        (await environmentFiles(example, name)).map((f) => f.relativePath),
      );
    }
  });
});
