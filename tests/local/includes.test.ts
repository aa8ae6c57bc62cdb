import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvironments } from '../../src/local/environments.js';
import { buildTemplate } from '../../src/local/build.js';
import { planFor } from '../../src/local/plan.js';
import { status } from '../../src/local/status.js';
import { parseJson, runCli } from '../support/cli.js';
import { local, query, trackDatabase, uniqueName, urlFor } from '../support/db.js';
import { makeProject } from '../support/project.js';

const MAIN = 'CREATE TABLE item (id int PRIMARY KEY, name text);\n\\ir ../lib/functions.sql\n';
const FUNCTIONS = 'CREATE FUNCTION item_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM item $$;\n';

describe('files reached by \\i / \\ir belong to the environment', () => {
  it('an edit in an included file makes the template stale, and the rebuilt template has it', async () => {
    const project = makeProject({
      files: { '0_schema/010_main.sql': MAIN, 'lib/functions.sql': FUNCTIONS },
      environments: '[environments.local]\nexclude_directories = ["lib"]\n',
    });
    await buildTemplate({ config: project.config() });
    const built = (await status({ config: project.config(), environment: 'local' })).environments[0];
    expect(built).toMatchObject({ state: 'fresh', fileCount: 1 });
    project.write('lib/functions.sql', FUNCTIONS.replace('count(*)', 'count(*) + 100'));
    const stale = (await status({ config: project.config(), environment: 'local' })).environments[0];
    expect(stale).toMatchObject({ state: 'stale', modified: ['lib/functions.sql'] });
    const rebuilt = await buildTemplate({ config: project.config() });
    expect(rebuilt.rebuilt).toBe(true);
    const clone = uniqueName('clone');
    await query(local.adminUrl, `CREATE DATABASE "${clone}" TEMPLATE "${project.template()}"`);
    trackDatabase(local, clone);
    expect(await query(urlFor(local.adminUrl, clone), "SELECT prosrc LIKE '%+ 100%' AS edited FROM pg_proc WHERE proname = 'item_count'")).toEqual([{ edited: true }]);
    expect(rebuilt.manifest.included).toEqual({ 'lib/functions.sql': expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('the production guard sees seed data a production environment would reach through an include', async () => {
    const project = makeProject({
      files: {
        '0_schema/010_item.sql': 'CREATE TABLE item (id int PRIMARY KEY, name text);\n\\ir ../1_seed/010_items.sql\n',
        '1_seed/010_items.sql': "INSERT INTO item VALUES (1, 'kettle');\n",
      },
      environments: '[environments.local]\n\n[environments.production]\ninclude_directories = ["0_schema"]\n',
    });
    const refused = await planFor(project.config(), 'production').then(() => undefined, (error: unknown) => error as Error & { code?: string });
    expect(refused?.code).toBe('PRODUCTION_GUARD');
    expect(refused?.message).toContain('1_seed/010_items.sql (contains "seed"; included from 0_schema/010_item.sql:2)');
    const report = await validateEnvironments(project.config(), 'production');
    expect(report.ok).toBe(false);
    expect(report.environments[0]?.problems).toEqual([
      expect.objectContaining({ kind: 'production_guard', path: '1_seed/010_items.sql' }),
    ]);
  });

  it('environments show lists included files with the file and line that include them', async () => {
    const project = makeProject({
      files: { '0_schema/010_main.sql': MAIN, 'lib/functions.sql': FUNCTIONS },
      environments: '[environments.local]\nexclude_directories = ["lib"]\n',
    });
    const show = await runCli(['--config', project.configPath, 'environments', 'show', 'local', '--json']);
    expect(show.exitCode).toBe(0);
    expect(parseJson(show)).toMatchObject({
      files: [{ path: '0_schema/010_main.sql' }],
      included: [{ path: 'lib/functions.sql', includedFrom: '0_schema/010_main.sql:2' }],
    });
  });

  it('an include that leaves the repository is refused, naming file:line', async () => {
    const project = makeProject({ files: { '0_schema/010_main.sql': 'CREATE TABLE a (id int);\n\\ir ../../outside.sql\n' } });
    writeFileSync(path.join(project.dir, 'outside.sql'), 'CREATE TABLE outside (id int);\n');
    const error = await buildTemplate({ config: project.config() }).then(() => undefined, (caught: unknown) => caught as Error & { code?: string; hint?: string });
    expect(error?.code).toBe('SQL_INCLUDE_OUTSIDE');
    expect(error?.message).toBe('0_schema/010_main.sql:2: \\ir ../../outside.sql leaves the repository');
    expect(error?.hint).toMatch(/Move .* into the repository/);
  });
});
