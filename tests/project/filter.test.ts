import { describe, expect, it } from 'vitest';
import type { DbfastConfig, EnvironmentConfig } from '../../src/config/types.js';
import { defaultEnvironmentName, filterFiles, findEnvironment, inDirectory } from '../../src/project/filter.js';
import { loadConfig } from '../../src/config/load.js';
import { tempDir, writeTree } from '../support/files.js';

const FILES = [
  '0_schema/010_tables.sql',
  '0_schema/views/020_views.sql',
  '1_seed_common/010_products.sql',
  '10_schema/010_late.sql',
  '2_seed_backend/010_customers.sql',
  '2_seed_backend/debug/010_debug.sql',
  '6_migration/001_phone.sql',
  'root.sql',
].map((relativePath) => ({ relativePath }));

function select(environment: Omit<EnvironmentConfig, 'name'>): string[] {
  return filterFiles(FILES, { name: 'x', ...environment }).map((file) => file.relativePath);
}

describe('include_directories / exclude_directories', () => {
  it('match whole path segments: 0_schema never matches 10_schema', () => {
    expect(select({ include_directories: ['0_schema'] })).toEqual(['0_schema/010_tables.sql', '0_schema/views/020_views.sql']);
    expect(inDirectory('10_schema/a.sql', '0_schema')).toBe(false);
    expect(inDirectory('0_schema_old/a.sql', '0_schema')).toBe(false);
    expect(inDirectory('0_schema/a.sql', '0_schema/')).toBe(true);
    expect(inDirectory('0_schema/a.sql', './0_schema')).toBe(true);
  });

  it('match nested folders from the repository root, not anywhere in the path', () => {
    expect(select({ include_directories: ['0_schema/views'] })).toEqual(['0_schema/views/020_views.sql']);
    expect(select({ include_directories: ['views'] })).toEqual([]);
    expect(inDirectory('0_schema/a.sql', '0_schema/a.sql')).toBe(false);
  });

  it('exclude a sub-folder of an included folder', () => {
    expect(select({ include_directories: ['2_seed_backend'], exclude_directories: ['2_seed_backend/debug'] })).toEqual([
      '2_seed_backend/010_customers.sql',
    ]);
  });

  it('take everything when nothing is included, keeping the given order', () => {
    expect(select({})).toEqual(FILES.map((file) => file.relativePath));
    expect(select({ exclude_directories: ['1_seed_common', '2_seed_backend'] })).toEqual([
      '0_schema/010_tables.sql',
      '0_schema/views/020_views.sql',
      '10_schema/010_late.sql',
      '6_migration/001_phone.sql',
      'root.sql',
    ]);
  });
});

describe('include_files / exclude_files globs', () => {
  it('add files matched by globs relative to the repository', () => {
    expect(select({ include_directories: ['6_migration'], include_files: ['*.sql'] })).toEqual(['6_migration/001_phone.sql', 'root.sql']);
    expect(select({ include_files: ['**/010_*.sql'] })).toEqual([
      '0_schema/010_tables.sql',
      '1_seed_common/010_products.sql',
      '10_schema/010_late.sql',
      '2_seed_backend/010_customers.sql',
      '2_seed_backend/debug/010_debug.sql',
    ]);
  });

  it('remove files matched by exclude globs, after the includes', () => {
    expect(select({ include_directories: ['0_schema', '2_seed_backend'], exclude_files: ['**/debug/**', '**/*views*'] })).toEqual([
      '0_schema/010_tables.sql',
      '2_seed_backend/010_customers.sql',
    ]);
  });
});

describe('choosing an environment', () => {
  function config(text: string): DbfastConfig {
    return loadConfig({ cwd: writeTree(tempDir(), { 'dbfast.toml': text }), env: {} });
  }

  it('defaults to local, else the only one, else asks for --env', () => {
    expect(defaultEnvironmentName(config('[environments.local]\n[environments.production]\n'))).toBe('local');
    expect(defaultEnvironmentName(config('[environments.dev]\n'))).toBe('dev');
    expect(() => defaultEnvironmentName(config('[environments.a]\n[environments.b]\n'))).toThrow(
      expect.objectContaining({ code: 'ENVIRONMENT_REQUIRED', exitCode: 2 }),
    );
    expect(defaultEnvironmentName(config('[environments.a]\n[environments.b]\n'), 'b')).toBe('b');
  });

  it('refuses an unknown environment with exit 2, naming the defined ones', () => {
    expect(() => findEnvironment(config('[environments.local]\n[environments.test]\n'), 'prod')).toThrow(
      expect.objectContaining({ code: 'ENVIRONMENT_UNKNOWN', exitCode: 2, hint: expect.stringContaining('local, test') }),
    );
  });
});
