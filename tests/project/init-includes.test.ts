import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initProject } from '../../src/api/project.js';
import { loadConfig } from '../../src/config/load.js';
import { buildTemplate } from '../../src/local/build.js';
import { environmentFiles } from '../../src/project/environments.js';
import { parseJson, runCli } from '../support/cli.js';
import { dropDatabase, local, query, uniqueName, urlFor } from '../support/db.js';
import { tempDir, writeTree } from '../support/files.js';

/**
 * Files reached only through `\ir` / `\i` from another file, in every place init could list them:
 * a folder of their own (`lib/`), a sub-folder of a run folder (`0_schema/parts/`), a single file
 * beside files that run (`0_schema/015_helper.sql`), a file directly in the repository
 * (`helpers.sql`) and one reached through another included file (`lib/020_b.sql`). Each creates a
 * table: run a second time, it fails the build.
 */
const INCLUDES = {
  '000_init.sql': '\\i helpers.sql\n',
  'helpers.sql': 'CREATE TABLE helper_root (id int);\n',
  '0_schema/010_main.sql': 'CREATE TABLE main (id int);\n\\ir parts/a.sql\n\\ir 015_helper.sql\n\\ir ../lib/010_a.sql\n',
  '0_schema/015_helper.sql': 'CREATE TABLE helper (id int);\n',
  '0_schema/020_views.sql': 'CREATE VIEW v AS SELECT * FROM main;\n',
  '0_schema/parts/a.sql': 'CREATE TABLE part_a (id int);\n',
  'lib/010_a.sql': 'CREATE TABLE lib_a (id int);\n\\ir 020_b.sql\n',
  'lib/020_b.sql': 'CREATE TABLE lib_b (id int);\n',
  '1_seed_common/010_rows.sql': 'INSERT INTO main VALUES (1);\n',
};
const INCLUDED = ['0_schema/015_helper.sql', '0_schema/parts/a.sql', 'helpers.sql', 'lib/010_a.sql', 'lib/020_b.sql'];

describe('dbfast init and files reached only through includes', () => {
  it('leaves out files and folders that other files include, so each runs once (where it is included)', async () => {
    const dir = writeTree(tempDir('inc-'), INCLUDES);
    const templateName = uniqueName('ti');
    const result = await initProject({ cwd: dir, templateName, databaseUrl: local.adminUrl });
    expect(result.files).toBe(4);
    expect(result.folders.map((folder) => folder.name)).toEqual(['0_schema', '1_seed_common']);
    expect(result.environments.local).toEqual({
      include_directories: ['0_schema', '1_seed_common'],
      include_files: ['*.sql'],
      exclude_directories: ['0_schema/parts'],
      exclude_files: ['0_schema/015_helper.sql', 'helpers.sql'],
      files: 4,
    });
    expect(result.notes.join('\n')).toContain(`left out 5 files that other files include (\\i / \\ir), which run where they are included: ${INCLUDED.join(', ')}`);
    const config = loadConfig({ cwd: dir, env: {} });
    for (const name of Object.keys(config.environments)) {
      const files = (await environmentFiles(config, name)).map((file) => file.relativePath);
      expect(files.filter((file) => INCLUDED.includes(file)), name).toEqual([]);
    }
    expect((await environmentFiles(config, 'local')).map((file) => file.relativePath)).toEqual(['000_init.sql', '0_schema/010_main.sql', '0_schema/020_views.sql', '1_seed_common/010_rows.sql']);

    // Built as written: every included file ran exactly once (a second CREATE TABLE would have failed).
    try {
      const built = await buildTemplate({ config });
      expect(built.files).toBe(4);
      const clone = uniqueName('ti_clone');
      await query(local.adminUrl, `CREATE DATABASE "${clone}" TEMPLATE "${built.template}"`);
      try {
        const tables = await query<{ name: string }>(urlFor(local.adminUrl, clone), "SELECT relname AS name FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 1");
        expect(tables.map((table) => table.name)).toEqual(['helper', 'helper_root', 'lib_a', 'lib_b', 'main', 'part_a']);
      } finally {
        await dropDatabase(local, clone);
      }
    } finally {
      for (const row of await query<{ datname: string }>(local.adminUrl, 'SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [templateName])) await dropDatabase(local, row.datname);
    }
  });

  it('the CLI writes the same, and says what it left out', async () => {
    const dir = writeTree(tempDir('inc-cli-'), INCLUDES);
    const run = await runCli(['--json', 'init'], { cwd: dir, env: { DBFAST_CONFIG: undefined } });
    expect(run.exitCode, run.stderr).toBe(0);
    const json = parseJson<{ environments: Record<string, { exclude_directories?: string[]; files: number }> }>(run);
    expect(json.environments.local).toMatchObject({ exclude_directories: ['0_schema/parts'], files: 4 });
    const text = readFileSync(`${dir}/dbfast.toml`, 'utf8');
    expect(text).toContain('exclude_directories = ["0_schema/parts"]');
    expect(text).toContain('# Note: left out 5 files that other files include');
  });
});
