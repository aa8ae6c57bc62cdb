import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DbfastError } from '../../src/errors.js';
import { environmentFiles, environmentSummaries } from '../../src/project/environments.js';
import { scanProject } from '../../src/project/scan.js';
import { tempDir, writeTree } from '../support/files.js';

/**
 * A project with two SQL repositories on disk: core (beside the project) and app (inside it).
 * Files run repository by repository, in the order configured, each in natural order.
 */
function twoRepositories(environments = '[environments.local]\n', more = '') {
  const root = tempDir();
  writeTree(root, {
    'core-sql/0_schema/10_tables.sql': 'CREATE TABLE t (id int);\n',
    'core-sql/0_schema/2_types.sql': 'CREATE TYPE k AS ENUM (\'a\');\n',
    'core-sql/1_data/010_rows.sql': 'INSERT INTO t VALUES (1);\n',
    'core-sql/tests/010_fixture.sql': 'SELECT 1;\n',
    'core-sql/top.sql': 'SELECT 1;\n',
    'project/app-sql/0_schema/010_app.sql': 'CREATE TABLE a (id int);\n',
    'project/app-sql/1_data/010_debug.sql': 'SELECT 1;\n',
    'project/app-sql/tests/010_fixture.sql': 'SELECT 1;\n',
    'project/dbfast.toml': `[[repositories]]\nname = "core"\npath = "../core-sql"\n\n[[repositories]]\nname = "app"\npath = "app-sql"\n${more}\n${environments}`,
  });
  return loadConfig({ configPath: path.join(root, 'project', 'dbfast.toml'), env: {} });
}

describe('scanProject', () => {
  it('lists every repository in the order configured, natural order within each, named NAME:path', async () => {
    const config = twoRepositories();
    const files = await scanProject(config);
    expect(files.map((file) => file.relativePath)).toEqual([
      'core:0_schema/2_types.sql',
      'core:0_schema/10_tables.sql',
      'core:1_data/010_rows.sql',
      'core:tests/010_fixture.sql',
      'core:top.sql',
      'app:0_schema/010_app.sql',
      'app:1_data/010_debug.sql',
      'app:tests/010_fixture.sql',
    ]);
    expect(files[0]).toMatchObject({
      absolutePath: path.join(path.dirname(config.rootDir), 'core-sql/0_schema/2_types.sql'),
      repository: { name: 'core', root: path.join(path.dirname(config.rootDir), 'core-sql') },
    });
  });

  it('names every missing repository folder by its key before scanning anything', async () => {
    const root = tempDir();
    writeTree(root, { 'dbfast.toml': '[[repositories]]\nname = "core"\npath = "core"\n\n[[repositories]]\nname = "app"\npath = "app"\n\n[[repositories]]\nname = "lib"\npath = "lib"\n', 'app/a.sql': '' });
    const config = loadConfig({ cwd: root, env: {} });
    const error = await scanProject(config).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DbfastError);
    expect((error as DbfastError).code).toBe('REPOSITORY_NOT_FOUND');
    expect((error as DbfastError).exitCode).toBe(2);
    expect((error as DbfastError).message).toBe(
      `2 repository folders do not exist:\n  repositories[0].path: ${path.join(root, 'core')} (repository "core")\n  repositories[2].path: ${path.join(root, 'lib')} (repository "lib")`,
    );
  });

  it('keeps plain paths for one [repository]', async () => {
    const root = writeTree(tempDir(), { 'dbfast.toml': '[repository]\npath = "db"\n', 'db/0_schema/a.sql': '' });
    const files = await scanProject(loadConfig({ cwd: root, env: {} }));
    expect(files.map((file) => [file.relativePath, file.repository])).toEqual([['0_schema/a.sql', undefined]]);
  });
});

describe('environments select files across repositories', () => {
  it('a NAME:folder pattern selects in that repository; a plain one in every repository', async () => {
    const config = twoRepositories(`
[environments.local]
exclude_directories = ["tests"]

[environments.schema]
include_directories = ["0_schema", "core:1_data"]
exclude_files = ["core:**/2_*.sql"]

[environments.appdata]
include_files = ["app:1_data/*.sql", "core:top.sql"]
`);
    const names = async (environment: string) => (await environmentFiles(config, environment)).map((file) => file.relativePath);
    expect(await names('local')).toEqual(['core:0_schema/2_types.sql', 'core:0_schema/10_tables.sql', 'core:1_data/010_rows.sql', 'core:top.sql', 'app:0_schema/010_app.sql', 'app:1_data/010_debug.sql']);
    expect(await names('schema')).toEqual(['core:0_schema/10_tables.sql', 'core:1_data/010_rows.sql', 'app:0_schema/010_app.sql']);
    expect(await names('appdata')).toEqual(['core:top.sql', 'app:1_data/010_debug.sql']);
    expect((await environmentSummaries(config)).map((summary) => [summary.name, summary.files])).toEqual([['local', 6], ['schema', 3], ['appdata', 2]]);
  });

  it('cluster_setup files are named with their repository and left out of every environment', async () => {
    const config = twoRepositories('[environments.local]\n', '[repository]\ncluster_setup = ["core:top.sql"]\n');
    expect((await environmentFiles(config, 'local')).map((file) => file.relativePath)).not.toContain('core:top.sql');
  });
});

describe('dbfast init with several --repo-dir', () => {
  it('writes [[repositories]] in the order given and environments whose folders name their repository', async () => {
    const { initProject } = await import('../../src/api/project.js');
    const root = tempDir();
    writeTree(root, {
      'core-sql/0_schema/010_item.sql': 'CREATE TABLE item (id int);\n',
      'core-sql/1_seed/010_items.sql': 'INSERT INTO item VALUES (1);\n',
      'project/app-sql/0_schema/010_order.sql': 'CREATE TABLE app_order (id int);\n',
    });
    const cwd = path.join(root, 'project');
    const result = await initProject({ cwd, repoDirs: ['../core-sql', 'app-sql'], templateName: 'shop' });
    expect(result.repositories).toEqual([
      { name: 'core-sql', path: '../core-sql', files: 2 },
      { name: 'app-sql', path: 'app-sql', files: 1 },
    ]);
    const config = loadConfig({ cwd, env: {} });
    expect(config.repositories.map(({ name, path: folder }) => [name, folder])).toEqual([
      ['core-sql', path.join(root, 'core-sql')],
      ['app-sql', path.join(cwd, 'app-sql')],
    ]);
    expect(config.environments.local?.include_directories).toEqual(['core-sql:0_schema', 'core-sql:1_seed', 'app-sql:0_schema']);
    expect(config.environments.production?.include_directories).toEqual(['core-sql:0_schema', 'app-sql:0_schema']);
    expect((await environmentFiles(config, 'production')).map((file) => file.relativePath)).toEqual(['core-sql:0_schema/010_item.sql', 'app-sql:0_schema/010_order.sql']);
  });
});
