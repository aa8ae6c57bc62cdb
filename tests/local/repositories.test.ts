import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { watch, type WatchEvent, type WatchSession } from '../../src/index.js';
import { loadConfig } from '../../src/config/load.js';
import type { DbfastConfig } from '../../src/config/types.js';
import { DbfastError } from '../../src/errors.js';
import { buildTemplate } from '../../src/local/build.js';
import { seed } from '../../src/local/seed.js';
import { status } from '../../src/local/status.js';
import { parseJson, runCli } from '../support/cli.js';
import { databasesLike, dropDatabase, local, query, uniqueName, urlFor } from '../support/db.js';
import { writeTree } from '../support/files.js';

/**
 * Two SQL repositories in one project (issue 16 item 2), built into real templates on the local
 * test cluster: `core` beside the project folder, `app` inside it. Files run repository by
 * repository (core, then app), each in natural order; the default layers are one per repository
 * and top-level folder.
 */
interface TwoRepoProject {
  dir: string;
  configPath: string;
  templateName: string;
  config(): DbfastConfig;
  /** Writes `core:0_schema/a.sql` or `app:1_data/b.sql` into its repository. */
  write(name: string, sql: string): void;
}

const made: TwoRepoProject[] = [];

const CORE = {
  '0_schema/010_item.sql': 'CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL, source text NOT NULL);\n\\ir ../lib/functions.sql\n',
  'lib/functions.sql': "CREATE FUNCTION core_version() RETURNS text LANGUAGE sql AS $$ SELECT 'core' $$;\n",
  '1_data/010_items.sql': "INSERT INTO item VALUES (1, 'kettle', 'core');\n",
};
const APP = {
  '0_schema/010_order.sql': 'CREATE TABLE app_order (id int PRIMARY KEY, item int NOT NULL REFERENCES item);\n\\ir ../lib/functions.sql\n',
  // Same relative path as core's: includes resolve within their own repository.
  'lib/functions.sql': "CREATE FUNCTION app_version() RETURNS text LANGUAGE sql AS $$ SELECT 'app' $$;\n",
  '1_data/010_items.sql': "INSERT INTO item VALUES (2, 'teapot', 'app');\nINSERT INTO app_order VALUES (1, 2);\n",
};

function twoRepoProject(environments = '[environments.local]\nexclude_directories = ["lib"]\n'): TwoRepoProject {
  const root = mkdtempSync(path.join(os.tmpdir(), 'dbfast-multirepo-'));
  const dir = path.join(root, 'project');
  const templateName = uniqueName('mr');
  const configPath = path.join(dir, 'dbfast.toml');
  writeTree(path.join(root, 'core-sql'), CORE);
  writeTree(path.join(dir, 'app-sql'), APP);
  writeFileSync(
    configPath,
    `[database]\nurl = "${local.adminUrl}"\ntemplate_name = "${templateName}"\n\n[[repositories]]\nname = "core"\npath = "../core-sql"\n\n[[repositories]]\nname = "app"\npath = "app-sql"\n\n${environments}`,
  );
  const project: TwoRepoProject = {
    dir,
    configPath,
    templateName,
    config: () => loadConfig({ configPath, env: {} }),
    write: (name, sql) => {
      const [repository, file] = name.split(':') as [string, string];
      writeTree(repository === 'core' ? path.join(root, 'core-sql') : path.join(dir, 'app-sql'), { [file]: sql });
    },
  };
  made.push(project);
  return project;
}

afterAll(async () => {
  for (const project of made.splice(0)) {
    for (const name of await databasesLike(local, project.templateName).catch(() => [])) await dropDatabase(local, name).catch(() => undefined);
    rmSync(path.dirname(project.dir), { recursive: true, force: true });
  }
});

let clones = 0;
async function seeded(project: TwoRepoProject): Promise<string> {
  const { database } = await seed({ config: project.config(), output: `${project.templateName}_c${clones++}`, background: 'wait' });
  return database;
}

describe('a project with two repositories, built on real PostgreSQL', () => {
  it('runs core before app, each in its own layers, and records NAME:path in the manifest', async () => {
    const project = twoRepoProject();
    const built = await buildTemplate({ config: project.config(), background: 'wait' });
    expect(Object.keys(built.manifest.files)).toEqual(['core:0_schema/010_item.sql', 'core:1_data/010_items.sql', 'app:0_schema/010_order.sql', 'app:1_data/010_items.sql']);
    expect(built.manifest.included).toEqual({ 'core:lib/functions.sql': expect.stringMatching(/^[0-9a-f]{64}$/), 'app:lib/functions.sql': expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(built.layers.map((layer) => layer.label)).toEqual(['core:0_schema', 'core:1_data', 'app:0_schema', 'app:1_data']);
    const database = await seeded(project);
    const url = urlFor(local.adminUrl, database);
    expect(await query(url, 'SELECT id, name, source FROM item ORDER BY id')).toEqual([
      { id: 1, name: 'kettle', source: 'core' },
      { id: 2, name: 'teapot', source: 'app' },
    ]);
    // Each repository's lib/functions.sql, though both are written `\ir ../lib/functions.sql`.
    expect(await query(url, 'SELECT core_version() AS core, app_version() AS app')).toEqual([{ core: 'core', app: 'app' }]);
  });

  it('a change in the second repository makes the template stale and rebuilds from its layer only', async () => {
    const project = twoRepoProject();
    await buildTemplate({ config: project.config(), background: 'wait' });
    await buildTemplate({ config: project.config(), force: true, background: 'wait' });
    project.write('app:1_data/010_items.sql', "INSERT INTO item VALUES (2, 'teapot', 'app'), (3, 'cup', 'app');\n");
    const stale = (await status({ config: project.config(), environment: 'local' })).environments[0];
    expect(stale).toMatchObject({ state: 'stale', modified: ['app:1_data/010_items.sql'], added: [], removed: [] });
    const rebuilt = await buildTemplate({ config: project.config(), background: 'wait' });
    expect(rebuilt.layers.map((layer) => [layer.label, layer.state])).toEqual([
      ['core:0_schema', 'reused'],
      ['core:1_data', 'reused'],
      ['app:0_schema', 'reused'],
      ['app:1_data', 'rebuilt'],
    ]);
    expect(await query(urlFor(local.adminUrl, await seeded(project)), 'SELECT name FROM item ORDER BY id')).toEqual([{ name: 'kettle' }, { name: 'teapot' }, { name: 'cup' }]);
    // A file of the first repository that only its includes reach counts too.
    project.write('core:lib/functions.sql', "CREATE FUNCTION core_version() RETURNS text LANGUAGE sql AS $$ SELECT 'core 2' $$;\n");
    expect((await status({ config: project.config(), environment: 'local' })).environments[0]).toMatchObject({ state: 'stale', modified: ['core:lib/functions.sql'] });
  });

  it('reordering the repositories makes the template stale (same files, another run order), and the rebuild runs the new order', async () => {
    const project = twoRepoProject();
    await buildTemplate({ config: project.config(), environment: 'local' });
    const text = readFileSync(project.configPath, 'utf8');
    const swapped = text.replace('[[repositories]]\nname = "core"\npath = "../core-sql"\n\n[[repositories]]\nname = "app"\npath = "app-sql"', '[[repositories]]\nname = "app"\npath = "app-sql"\n\n[[repositories]]\nname = "core"\npath = "../core-sql"');
    expect(swapped).not.toBe(text);
    writeFileSync(project.configPath, swapped);
    expect((await status({ config: project.config(), environment: 'local' })).environments[0]).toMatchObject({ state: 'stale', added: [], removed: [], modified: [], orderChanged: true });
    // app's schema needs core's table: the new order cannot build, and says so.
    const error = await buildTemplate({ config: project.config(), environment: 'local' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbfastError);
    expect((error as DbfastError).message).toContain('app:0_schema/010_order.sql:1:');
  });

  it('a SQL error names repository:path:line:column, also in an included file', async () => {
    const project = twoRepoProject();
    project.write('app:1_data/010_items.sql', "INSERT INTO item VALUES (2, 'teapot', 'app');\nINSERT INTO itme VALUES (3, 'cup', 'app');\n");
    const error = await buildTemplate({ config: project.config() }).then(() => undefined, (caught: unknown) => caught as DbfastError);
    expect(error?.code).toBe('SQL_ERROR');
    expect(error?.message).toContain('app:1_data/010_items.sql:2:13');
    expect(error?.details).toMatchObject({ file: 'app:1_data/010_items.sql', line: 2, column: 13 });

    const included = twoRepoProject();
    included.write('core:lib/functions.sql', 'CREATE FUNCTION core_version() RETURNS text LANGUAGE sql AS $$ SELECT 1 $$ bogus;\n');
    const inInclude = await buildTemplate({ config: included.config() }).then(() => undefined, (caught: unknown) => caught as DbfastError);
    expect(inInclude?.code).toBe('SQL_ERROR');
    expect(inInclude?.message).toContain('core:lib/functions.sql:1:');
    expect(inInclude?.message).toContain('core:0_schema/010_item.sql:2');
  });

  it('an include that leaves its own repository is refused before anything runs, naming repository:path:line', async () => {
    const project = twoRepoProject();
    // From app-sql/0_schema, ../../../core-sql is the other repository's folder: not app's.
    project.write('app:0_schema/020_peek.sql', '\\ir ../../../core-sql/1_data/010_items.sql\n');
    const error = await buildTemplate({ config: project.config() }).then(() => undefined, (caught: unknown) => caught as DbfastError);
    expect(error?.code).toBe('SQL_INCLUDE_OUTSIDE');
    expect(error?.message).toContain('app:0_schema/020_peek.sql:1');
    expect(await databasesLike(local, project.templateName)).toEqual([]);
  });

  it('configured layers name folders by repository', async () => {
    const project = twoRepoProject('[environments.local]\nexclude_directories = ["lib"]\nlayers = [["core:0_schema", "app:0_schema"], ["core:1_data", "app:1_data"]]\n');
    // In run order core:1_data comes before app:0_schema: these layers do not follow it.
    const refused = await buildTemplate({ config: project.config() }).then(() => undefined, (caught: unknown) => caught as DbfastError);
    expect(refused?.code).toBe('LAYERS_INVALID');
    expect(refused?.message).toBe('environments.local.layers: app:0_schema/010_order.sql (layer 1) runs after core:1_data/010_items.sql (layer 2): layers must follow the order the files run in');

    const ordered = twoRepoProject('[environments.local]\nexclude_directories = ["lib"]\nlayers = [["core"], ["app:0_schema"], ["app:1_data"]]\n');
    // `core` as a folder is a plain pattern: no folder of that name. The repository's folders are named core:FOLDER.
    const unnamed = await buildTemplate({ config: ordered.config() }).then(() => undefined, (caught: unknown) => caught as DbfastError);
    expect(unnamed?.message).toContain('core:0_schema/010_item.sql is in none of the layers');
  });
});

describe('the CLI shows every repository', () => {
  it('environments show lists NAME:path in run order and the repositories; config show lists each', async () => {
    const project = twoRepoProject();
    const shown = await runCli(['--config', project.configPath, 'environments', 'show', 'local'], { cwd: project.dir });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('in core (../core-sql), app (app-sql)');
    expect(shown.stdout).toMatch(/1\s+core:0_schema\/010_item\.sql/);
    expect(shown.stdout).toMatch(/4\s+app:1_data\/010_items\.sql/);
    expect(shown.stdout).toMatch(/app:lib\/functions\.sql\s+app:0_schema\/010_order\.sql:2/);
    const json = parseJson<{ repositories: unknown; files: Array<{ path: string }> }>(await runCli(['--config', project.configPath, '--json', 'environments', 'show', 'local']));
    expect(json.repositories).toEqual([{ name: 'core', path: path.resolve(project.dir, '../core-sql') }, { name: 'app', path: path.join(project.dir, 'app-sql') }]);
    expect(json.files.map((file) => file.path)).toEqual(['core:0_schema/010_item.sql', 'core:1_data/010_items.sql', 'app:0_schema/010_order.sql', 'app:1_data/010_items.sql']);

    const config = parseJson<{ entries: Array<{ key: string; value: unknown; source: { kind: string; key?: string } }> }>(await runCli(['--config', project.configPath, '--json', 'config', 'show'], { env: { DATABASE_URL: undefined } }));
    const repositories = config.entries.filter((entry) => entry.key.startsWith('repositories'));
    expect(repositories).toEqual([
      { key: 'repositories.core.path', value: path.resolve(project.dir, '../core-sql'), source: expect.objectContaining({ kind: 'file', key: 'repositories[0].path' }) },
      { key: 'repositories.app.path', value: path.join(project.dir, 'app-sql'), source: expect.objectContaining({ kind: 'file', key: 'repositories[1].path' }) },
    ]);
  });

  it('an unknown repository in a pattern stops every command with exit 2, naming the key', async () => {
    const project = twoRepoProject('[environments.local]\ninclude_directories = ["cor:0_schema"]\n');
    const result = await runCli(['--config', project.configPath, 'build']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('environments.local.include_directories[0]: "cor:0_schema" names repository "cor", which is not defined (repositories: core, app)');
  });
});

describe('watch with two repositories (real file-system events)', () => {
  const sessions: WatchSession[] = [];
  afterEach(async () => {
    for (const session of sessions.splice(0)) await session.close();
  });

  it('rebuilds and refreshes the output on a save in either repository', async () => {
    const project = twoRepoProject();
    const output = `${project.templateName}_w`;
    const events: WatchEvent[] = [];
    const next = async (type: WatchEvent['type']): Promise<WatchEvent> => {
      const seen = events.length;
      for (let waited = 0; waited < 30_000; waited += 50) {
        const found = events.slice(seen).find((event) => event.type === type || event.type === 'failed');
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no ${type} event; saw ${JSON.stringify(events.map((event) => event.type))}`);
    };
    const watching = next('watching');
    sessions.push(await watch({ configPath: project.configPath, env: {}, outputs: [output], onEvent: (event) => events.push(event) }));
    expect(await watching).toMatchObject({ repositories: [path.resolve(project.dir, '../core-sql'), path.join(project.dir, 'app-sql')] });

    const afterApp = next('refreshed');
    project.write('app:1_data/020_more.sql', "INSERT INTO item VALUES (3, 'cup', 'app');\n");
    expect(await afterApp).toMatchObject({ type: 'refreshed', touched: ['app:1_data/020_more.sql'], changes: [{ file: 'app:1_data/020_more.sql', change: 'added' }] });

    const afterCore = next('refreshed');
    project.write('core:1_data/010_items.sql', "INSERT INTO item VALUES (1, 'kettle', 'core'), (4, 'saucer', 'core');\n");
    expect(await afterCore).toMatchObject({ type: 'refreshed', changes: [{ file: 'core:1_data/010_items.sql', change: 'modified' }] });
    expect(await query(urlFor(local.adminUrl, output), 'SELECT name FROM item ORDER BY id')).toEqual([{ name: 'kettle' }, { name: 'teapot' }, { name: 'cup' }, { name: 'saucer' }]);
  });
});
