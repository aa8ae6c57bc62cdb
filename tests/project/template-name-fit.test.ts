import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { templateDatabaseName } from '../../src/local/names.js';
import { runCli } from '../support/cli.js';
import { tempDir, writeTree } from '../support/files.js';

const TREE = {
  '0_schema/010_tables.sql': 'create table t (id int);',
  '1_seed_common/010_rows.sql': 'insert into t values (1);',
  '6_migration/001_add.sql': 'alter table t add column x int;',
};

describe('the template name fits every environment', () => {
  it('`dbfast init` in a folder with a 60-character name writes a name whose templates all fit', async () => {
    const dir = path.join(tempDir('fit-'), 'a'.repeat(30) + '_' + 'b'.repeat(29));
    mkdirSync(dir);
    writeTree(dir, TREE);
    const result = await runCli(['--json', 'init'], { cwd: dir, env: { DBFAST_CONFIG: undefined, DBFAST_TEMPLATE_NAME: undefined } });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const config = loadConfig({ cwd: dir, env: {} });
    expect(Object.keys(config.environments).sort()).toEqual(['local', 'production']);
    for (const environment of Object.keys(config.environments)) expect(() => templateDatabaseName(config, environment)).not.toThrow();
    // As long as it can be: "<name>_production" is exactly 40 bytes.
    expect(config.database.templateName).toBe('a'.repeat(29));
  });

  it('a template_name no environment can fit is refused when the config loads, naming the key', () => {
    const dir = tempDir('fitcfg-');
    writeTree(dir, TREE);
    writeFileSync(path.join(dir, 'dbfast.toml'), `[database]\ntemplate_name = "${'x'.repeat(40)}"\n\n[repository]\npath = "."\n`);
    let caught: unknown;
    try {
      loadConfig({ cwd: dir, env: {} });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
    expect(String((caught as Error).message)).toContain('database.template_name');
    expect(String((caught as Error).message)).toContain('too long for environment "local"');
  });
});
