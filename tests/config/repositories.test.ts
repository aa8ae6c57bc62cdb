import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DbfastError } from '../../src/errors.js';
import { tempDir, writeTree } from '../support/files.js';

/** Several SQL repositories in one project (issue 16 item 2): the forms of dbfast.toml and their rules. */

function loadText(text: string, env: NodeJS.ProcessEnv = {}) {
  const dir = writeTree(tempDir(), { 'dbfast.toml': text });
  return loadConfig({ cwd: dir, env });
}

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadText(text, env);
  } catch (error) {
    expect(error).toBeInstanceOf(DbfastError);
    expect((error as DbfastError).code).toBe('CONFIG_INVALID');
    return ((error as DbfastError).details as { problems: string[] }).problems;
  }
  throw new Error('expected loadConfig to fail');
}

describe('[[repositories]]', () => {
  it('keeps the repositories in the order written, each with its name, absolute path and key', () => {
    const config = loadText(`
[[repositories]]
name = "core"
path = "../core-sql"

[[repositories]]
name = "app"
path = "app-sql"

[repository]
runner = "psql"
`);
    expect(config.repositories).toEqual([
      { name: 'core', path: path.resolve(config.rootDir, '../core-sql'), key: 'repositories[0]' },
      { name: 'app', path: path.join(config.rootDir, 'app-sql'), key: 'repositories[1]' },
    ]);
    // The first repository stands for the project where one folder is meant (e.g. the psql runner's default root).
    expect(config.repository.path).toBe(path.resolve(config.rootDir, '../core-sql'));
    expect(config.repository.runner).toBe('psql');
  });

  it('names an entry without a path by its key', () => {
    expect(problems('[[repositories]]\nname = "core"\npath = "a"\n\n[[repositories]]\nname = "app"\n')).toEqual(['repositories[1].path: required string is missing']);
  });

  it('refuses a name used twice and a name that cannot prefix a file', () => {
    const found = problems(`
[[repositories]]
name = "core"
path = "a"

[[repositories]]
name = "core"
path = "b"

[[repositories]]
name = "has space"
path = "c"
`);
    expect(found).toEqual([
      'repositories[1].name: repository "core" is defined twice (also repositories[0])',
      'repositories[2].name: "has space" is not a valid repository name (a letter, then letters, digits, "_" or "-", at most 63); files are shown as NAME:path',
    ]);
  });

  it('refuses [repository] path together with [[repositories]]', () => {
    expect(problems('[repository]\npath = "db"\n\n[[repositories]]\nname = "core"\npath = "core"\n')).toEqual([
      'repository.path: [[repositories]] names the repositories; remove repository.path (or the [[repositories]] tables)',
    ]);
  });

  it('refuses DBFAST_REPOSITORY_PATH when several repositories are named', () => {
    expect(problems('[[repositories]]\nname = "core"\npath = "core"\n', { DBFAST_REPOSITORY_PATH: 'elsewhere' })).toEqual([
      'DBFAST_REPOSITORY_PATH: it replaces the one [repository] path, and dbfast.toml names its repositories with [[repositories]]; unset it',
    ]);
  });
});

describe('repository.path as a list', () => {
  it('names each repository after its folder', () => {
    const config = loadText('[repository]\npath = ["../core-sql", "app"]\n');
    expect(config.repositories.map(({ name, key }) => ({ name, key }))).toEqual([
      { name: 'core-sql', key: 'repository.path[0]' },
      { name: 'app', key: 'repository.path[1]' },
    ]);
  });

  it('refuses two folders of the same name and a folder name that is not a repository name', () => {
    expect(problems('[repository]\npath = ["a/sql", "b/sql", "c/9 x"]\n')).toEqual([
      'repository.path[1]: its folder name "sql" is already the name of repository.path[0]; write [[repositories]] with a name for each',
      'repository.path[2]: its folder name "9 x" is not a valid repository name (a letter, then letters, digits, "_" or "-", at most 63); write [[repositories]] with a name for each',
    ]);
  });
});

describe('one repository stays the simple case', () => {
  it('has one unnamed repository: files keep their plain paths', () => {
    const config = loadText('[repository]\npath = "db"\n');
    expect(config.repositories).toEqual([{ path: path.join(config.rootDir, 'db'), key: 'repository.path' }]);
  });
});

describe('patterns that name a repository', () => {
  const two = '[[repositories]]\nname = "core"\npath = "core"\n\n[[repositories]]\nname = "app"\npath = "app"\n';

  it('accept NAME:path for every filter key, layers and cluster_setup', () => {
    const config = loadText(`${two}
[repository]
cluster_setup = ["core:roles.sql"]

[environments.local]
include_directories = ["core:0_schema", "app:1_data", "2_shared"]
exclude_files = ["app:**/*_debug.sql"]
layers = [["core:0_schema"], ["app:1_data", "2_shared"]]
`);
    expect(config.environments.local?.include_directories).toEqual(['core:0_schema', 'app:1_data', '2_shared']);
    expect(config.repository.clusterSetup).toEqual(['core:roles.sql']);
  });

  it('refuse an unknown repository name, naming the key', () => {
    expect(
      problems(`${two}
[repository]
cluster_setup = ["roles.sql", "nope:roles.sql"]

[environments.local]
include_directories = ["cor:0_schema"]
include_files = ["app:x.sql", "ap:y.sql"]
migration_directories = ["other:6_migration"]
layers = [["core:0_schema"], { folders = ["apps:1"] }]
`),
    ).toEqual([
      'environments.local.include_directories[0]: "cor:0_schema" names repository "cor", which is not defined (repositories: core, app)',
      'environments.local.include_files[1]: "ap:y.sql" names repository "ap", which is not defined (repositories: core, app)',
      'environments.local.migration_directories[0]: "other:6_migration" names repository "other", which is not defined (repositories: core, app)',
      'environments.local.layers[1].folders[0]: "apps:1" names repository "apps", which is not defined (repositories: core, app)',
      'repository.cluster_setup[0]: "roles.sql" must name its repository (e.g. core:roles.sql): the project has several',
      'repository.cluster_setup[1]: "nope:roles.sql" names repository "nope", which is not defined (repositories: core, app)',
    ]);
  });

  it('refuse a repository prefix in a project with one [repository]', () => {
    expect(problems('[repository]\npath = "db"\n\n[environments.local]\ninclude_directories = ["core:0_schema"]\n')).toEqual([
      'environments.local.include_directories[0]: "core:0_schema" names repository "core", but this project has one unnamed repository ([repository] path); name repositories with [[repositories]]',
    ]);
  });

  it('refuse an empty repository name or nothing after it', () => {
    expect(problems(`${two}\n[environments.local]\ninclude_directories = [":0_schema"]\nexclude_directories = ["app:"]\n`)).toEqual([
      'environments.local.include_directories[0]: ":0_schema" has an empty repository name before ":" (repositories: core, app)',
      'environments.local.exclude_directories[0]: "app:" names no folder or file after "app:"',
    ]);
  });

  it('refuse a cluster_setup file outside its repository, with several repositories or one', () => {
    expect(problems(`${two}\n[repository]\ncluster_setup = ["core:../outside.sql", "app:/etc/x.sql"]\n`)).toEqual([
      'repository.cluster_setup[0]: "core:../outside.sql" must be a file inside its repository, relative to it (no "..", not absolute)',
      'repository.cluster_setup[1]: "app:/etc/x.sql" must be a file inside its repository, relative to it (no "..", not absolute)',
    ]);
    expect(problems('[repository]\npath = "db"\ncluster_setup = ["../../outside.sql"]\n')).toEqual([
      'repository.cluster_setup[0]: "../../outside.sql" must be a file inside its repository, relative to it (no "..", not absolute)',
    ]);
  });

  it('still refuse folders that leave the repository, after the prefix', () => {
    expect(problems(`${two}\n[environments.local]\ninclude_directories = ["core:../x"]\n`)).toEqual([
      'environments.local.include_directories[0]: "core:../x" must be a folder inside the repository, relative to it (no "..", not absolute)',
    ]);
  });
});
