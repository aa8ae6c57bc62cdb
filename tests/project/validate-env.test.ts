import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { checkEnvironment } from '../../src/project/validate-env.js';
import { validateEnvironments } from '../../src/local/environments.js';
import { environmentFiles, environmentSummaries } from '../../src/project/environments.js';
import { tempDir, writeTree } from '../support/files.js';

const REPOSITORY = {
  'db/0_schema/010_tables.sql': 'create table t (id int);',
  'db/1_seed_common/010_rows.sql': 'insert into t values (1);',
  'db/6_migration/001_add.sql': 'alter table t add column x int;',
  'db/README.md': 'not sql',
};

function project(toml: string) {
  const root = writeTree(tempDir(), { ...REPOSITORY, 'dbfast.toml': `[repository]\npath = "db"\n${toml}` });
  return loadConfig({ cwd: root, env: {} });
}

describe('validateEnvironments', () => {
  it('passes environments whose folders exist, that have files and keep production clean', async () => {
    const config = project(`
[environments.local]
include_directories = ["0_schema", "1_seed_common", "6_migration"]
[environments.production]
include_directories = ["0_schema", "6_migration"]
`);
    expect(await validateEnvironments(config)).toEqual({
      ok: true,
      environments: [
        { name: 'local', files: 3, production: false, problems: [] },
        { name: 'production', files: 2, production: true, problems: [] },
      ],
    });
  });

  it('reports missing folders, environments without files and production-guard violations', async () => {
    const config = project(`
[environments.local]
include_directories = ["0_schema", "2_seed_backend"]
[environments.empty]
include_directories = ["9_nothing"]
[environments.production]
include_directories = ["0_schema", "1_seed_common"]
`);
    mkdirSync(path.join(config.repository.path, 'docs'));
    const report = await validateEnvironments(config);
    expect(report.ok).toBe(false);
    const [local, empty, production] = report.environments;
    expect(local).toMatchObject({ name: 'local', files: 1 });
    expect(local?.problems).toEqual([
      { kind: 'missing_directory', path: '2_seed_backend', message: expect.stringContaining('"2_seed_backend", which does not exist under') },
    ]);
    expect(empty?.problems.map((problem) => problem.kind)).toEqual(['missing_directory', 'no_files']);
    expect(production?.problems).toEqual([
      { kind: 'production_guard', path: '1_seed_common/010_rows.sql', message: expect.stringContaining('looks like seed data') },
    ]);
  });

  it('counts a folder that exists but holds no SQL as existing, and reports only the missing files', async () => {
    const config = project('[environments.docs]\ninclude_directories = ["docs"]\n');
    mkdirSync(path.join(config.repository.path, 'docs'));
    const report = await validateEnvironments(config);
    expect(report.environments[0]?.problems).toEqual([{ kind: 'no_files', message: 'no .sql file matches this environment' }]);
  });

  it('checks one environment with --env, and refuses an unknown one', async () => {
    const config = project('[environments.local]\n[environments.broken]\ninclude_directories = ["nope"]\n');
    expect(await validateEnvironments(config, 'local')).toEqual({ ok: true, environments: [{ name: 'local', files: 3, production: false, problems: [] }] });
    await expect(validateEnvironments(config, 'prod')).rejects.toMatchObject({ code: 'ENVIRONMENT_UNKNOWN', exitCode: 2 });
  });

  it('checkEnvironment is pure: the caller says which folders exist', () => {
    const config = project('[environments.local]\ninclude_directories = ["a", "b"]\n');
    const check = checkEnvironment(config, config.environments.local!, [{ relativePath: 'a/1.sql' }], (dir) => dir === 'a');
    expect(check).toEqual({
      name: 'local',
      files: 1,
      production: false,
      problems: [{ kind: 'missing_directory', path: 'b', message: expect.any(String) }],
    });
  });
});

describe('environment files and summaries', () => {
  it('lists the files of an environment in run order, and counts per environment', async () => {
    const config = project('[environments.local]\n[environments.production]\ninclude_directories = ["0_schema", "6_migration"]\ndescription = "live"\n');
    const files = await environmentFiles(config, 'production');
    expect(files.map((file) => [file.relativePath, file.size])).toEqual([
      ['0_schema/010_tables.sql', 24],
      ['6_migration/001_add.sql', 31],
    ]);
    expect(await environmentSummaries(config)).toEqual([
      { name: 'local', files: 3, production: false, description: undefined },
      { name: 'production', files: 2, production: true, description: 'live' },
    ]);
    await expect(environmentFiles(config, 'nope')).rejects.toMatchObject({ code: 'ENVIRONMENT_UNKNOWN' });
  });
});
