import { describe, expect, it } from 'vitest';
import type { DbfastConfig } from '../../src/config/types.js';
import { loadConfig } from '../../src/config/load.js';
import { assertProductionSafe, filterFiles, guardViolations, guardedWord, isProductionEnvironment } from '../../src/project/filter.js';
import { DbfastError } from '../../src/errors.js';
import { tempDir, writeTree } from '../support/files.js';

function config(text: string): DbfastConfig {
  return loadConfig({ cwd: writeTree(tempDir(), { 'dbfast.toml': text }), env: {} });
}

const FILES = ['0_schema/010_tables.sql', '1_seed_common/010_products.sql', '3_test_data/users.sql', '6_migration/001.sql'].map(
  (relativePath) => ({ relativePath }),
);

describe('production guard', () => {
  it('flags seed, test, fixture and dev data by whole words in any part of the path', () => {
    expect(guardedWord('1_seed_common/a.sql')).toBe('seed');
    expect(guardedWord('seeds/a.sql')).toBe('seed');
    expect(guardedWord('0_schema/seedData.sql')).toBe('seed');
    expect(guardedWord('tests/a.sql')).toBe('test');
    expect(guardedWord('0_schema/TestData.sql')).toBe('test');
    expect(guardedWord('9_FIXTURES/a.sql')).toBe('fixture');
    expect(guardedWord('4-dev-only/a.sql')).toBe('dev');
    expect(guardedWord('development/a.sql')).toBe('dev');
    expect(guardedWord('0_schema/010_dev_users.sql')).toBe('dev');
  });

  it('does not flag schema whose names merely contain the letters (devices, latest, testimonials)', () => {
    for (const name of ['0_schema/devices.sql', '0_schema/latest_prices.sql', '0_schema/testimonials.sql', '0_schema/contest.sql', '0_schema/seedling_species.sql']) {
      expect(guardedWord(name), name).toBeUndefined();
    }
  });

  it('lists every violating file with its word', () => {
    expect(guardViolations(FILES)).toEqual([
      { relativePath: '1_seed_common/010_products.sql', word: 'seed' },
      { relativePath: '3_test_data/users.sql', word: 'test' },
    ]);
  });

  it('refuses seed data for the production environment (exit 2, naming each file and the fix)', () => {
    const cfg = config('[environments.production]\ninclude_directories = ["0_schema", "1_seed_common"]\n');
    const production = cfg.environments.production!;
    let error: DbfastError | undefined;
    try {
      assertProductionSafe(cfg, production, filterFiles(FILES, production));
    } catch (caught) {
      error = caught as DbfastError;
    }
    expect(error).toMatchObject({ code: 'PRODUCTION_GUARD', exitCode: 2 });
    expect(error?.message).toContain('1_seed_common/010_products.sql (contains "seed")');
    expect(error?.hint).toContain('allow_seed_data');
    expect(error?.details).toEqual({ files: ['1_seed_common/010_products.sql'] });
  });

  it('lets a clean production environment through, and allow_seed_data turns the guard off', () => {
    const cfg = config(
      '[environments.production]\ninclude_directories = ["0_schema", "6_migration"]\n[environments.demo]\nallow_seed_data = true\n[remotes.production]\nurl = "postgresql://a@h/d"\nenvironment = "demo"\n',
    );
    expect(() => assertProductionSafe(cfg, cfg.environments.production!, filterFiles(FILES, cfg.environments.production!))).not.toThrow();
    expect(isProductionEnvironment(cfg, 'demo')).toBe(true);
    expect(() => assertProductionSafe(cfg, cfg.environments.demo!, FILES)).not.toThrow();
  });

  it('treats an environment deployed to a remote named production as production; others are not', () => {
    const cfg = config('[environments.main]\n[environments.local]\n[remotes.production]\nurl = "postgresql://a@h/d"\nenvironment = "main"\n');
    expect(isProductionEnvironment(cfg, 'main')).toBe(true);
    expect(isProductionEnvironment(cfg, 'local')).toBe(false);
    expect(() => assertProductionSafe(cfg, cfg.environments.main!, FILES)).toThrow(expect.objectContaining({ code: 'PRODUCTION_GUARD' }));
    expect(() => assertProductionSafe(cfg, cfg.environments.local!, FILES)).not.toThrow();
  });
});
