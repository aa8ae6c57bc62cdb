import { describe, expect, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { decodeManifest } from '../../src/local/manifest.js';
import { seed } from '../../src/local/seed.js';
import { status } from '../../src/local/status.js';
import { DbfastError } from '../../src/errors.js';
import { local, query, urlFor } from '../support/db.js';
import { isTemplate, makeProject, projectDatabases, type TestProject } from '../support/project.js';
import { dumpOf, unfinished } from './support.js';

const FILES = {
  '0_schema/010_tables.sql': 'CREATE TABLE category (id int PRIMARY KEY, name text NOT NULL);\nCREATE TABLE item (id int PRIMARY KEY, category int NOT NULL REFERENCES category, name text NOT NULL);\n',
  '1_seed/010_categories.sql': "INSERT INTO category VALUES (1, 'tools'), (2, 'toys');\n",
  '1_seed/020_items.sql': "INSERT INTO item VALUES (1, 1, 'hammer'), (2, 2, 'kite');\n",
  '2_test/010_more.sql': "INSERT INTO item VALUES (3, 1, 'saw');\n",
};
const EDITS: Record<number, [string, string]> = {
  0: ['0_schema/010_tables.sql', 'CREATE INDEX item_name ON item (name);\n'],
  1: ['1_seed/020_items.sql', "INSERT INTO item VALUES (4, 2, 'yoyo');\n"],
  2: ['2_test/010_more.sql', "INSERT INTO item VALUES (5, 2, 'ball');\n"],
};

let clones = 0;
async function dumpOfTemplate(project: TestProject, environment = 'local'): Promise<string> {
  const { database } = await seed({ config: project.config(), environment, output: `${project.templateName}_c${clones++}`, background: 'wait' });
  return dumpOf(database);
}

async function itemNames(project: TestProject, environment = 'local'): Promise<string[]> {
  const { database } = await seed({ config: project.config(), environment, output: `${project.templateName}_c${clones++}`, background: 'wait' });
  return (await query<{ name: string }>(urlFor(local.adminUrl, database), 'SELECT name FROM item ORDER BY id')).map((row) => row.name);
}

/** Built, then rebuilt once: the layer templates are made by the (here awaited) background work after a rebuild. */
async function layeredProject(environments = '[environments.local]\n'): Promise<TestProject> {
  const project = makeProject({ files: FILES, environments });
  for (const name of Object.keys(project.config().environments)) {
    await buildTemplate({ config: project.config(), environment: name, background: 'wait' });
    await buildTemplate({ config: project.config(), environment: name, force: true, background: 'wait' });
  }
  return project;
}

describe('layered templates (issue 14)', () => {
  it('has one layer per top-level folder, each with its own template after a rebuild', async () => {
    const project = await layeredProject();
    const { environments } = await status({ config: project.config() });
    const layers = environments[0]?.layers ?? [];
    expect(layers.map((layer) => [layer.label, layer.state, layer.files])).toEqual([
      ['0_schema', 'fresh', 1],
      ['1_seed', 'fresh', 2],
      ['2_test', 'fresh', 1],
    ]);
    expect(layers[2]?.template).toBe(project.template());
    for (const layer of layers.slice(0, 2)) {
      const info = await isTemplate(layer.template);
      expect(info?.istemplate).toBe(true);
      const manifest = decodeManifest(info?.comment);
      expect(manifest).toMatchObject({ role: 'layer', owner: { path: project.dir } });
    }
    // Each manifest covers the whole prefix of layers.
    expect(Object.keys(decodeManifest((await isTemplate(layers[1]?.template as string))?.comment)?.files ?? {})).toEqual([
      '0_schema/010_tables.sql',
      '1_seed/010_categories.sql',
      '1_seed/020_items.sql',
    ]);
    expect(decodeManifest((await isTemplate(project.template()))?.comment)?.layers?.map((layer) => layer.label)).toEqual(['0_schema', '1_seed', '2_test']);
  });

  for (const changed of [2, 1, 0]) {
    it(`a change in layer ${changed} rebuilds from that layer only, and the result is what a full build gives`, async () => {
      const project = await layeredProject();
      const [file, sql] = EDITS[changed] as [string, string];
      project.write(file, `${FILES[file as keyof typeof FILES]}${sql}`);
      const before = await status({ config: project.config() });
      expect(before.environments[0]?.layers.map((layer) => layer.state)).toEqual([0, 1, 2].map((index) => (index < changed ? 'fresh' : 'stale')));
      expect(before.environments[0]?.layers[changed]?.modified).toEqual([file]);
      const result = await buildTemplate({ config: project.config(), background: 'wait' });
      expect(result.layers.map((layer) => layer.state)).toEqual([0, 1, 2].map((index) => (index < changed ? 'reused' : 'rebuilt')));
      const layered = await dumpOfTemplate(project);
      const full = await buildTemplate({ config: project.config(), force: true, background: 'wait' });
      expect(full.layers.map((layer) => layer.state)).toEqual(['rebuilt', 'rebuilt', 'rebuilt']);
      expect(await dumpOfTemplate(project)).toBe(layered);
      expect(unfinished(await projectDatabases(project))).toEqual([]);
    });
  }

  it('an edit to a file a layer includes (\\ir) rebuilds from that layer, and status names the included file', async () => {
    const files = { ...FILES, '1_seed/020_items.sql': '\\ir ../shared/items.psql\n', 'shared/items.psql': "INSERT INTO item VALUES (1, 1, 'hammer'), (2, 2, 'kite');\n" };
    const project = makeProject({ files });
    await buildTemplate({ config: project.config(), background: 'wait' });
    await buildTemplate({ config: project.config(), force: true, background: 'wait' });
    project.write('shared/items.psql', "INSERT INTO item VALUES (1, 1, 'hammer'), (2, 2, 'kite'), (4, 2, 'yoyo');\n");
    const before = (await status({ config: project.config() })).environments[0];
    expect(before).toMatchObject({ state: 'stale', modified: ['shared/items.psql'] });
    expect(before?.layers.map((layer) => layer.state)).toEqual(['fresh', 'stale', 'stale']);
    const result = await buildTemplate({ config: project.config(), background: 'wait' });
    expect(result.layers.map((layer) => layer.state)).toEqual(['reused', 'rebuilt', 'rebuilt']);
    expect(await itemNames(project)).toEqual(['hammer', 'kite', 'saw', 'yoyo']);
    expect((await status({ config: project.config() })).environments[0]?.state).toBe('fresh');
  });

  it('shares the first layers between environments with the same files there', async () => {
    const project = await layeredProject('[environments.local]\n\n[environments.ci]\ninclude_directories = ["0_schema", "1_seed"]\n');
    const { environments } = await status({ config: project.config() });
    const [local, ci] = environments;
    expect(local?.layers[0]?.template).toBe(ci?.layers[0]?.template);
    expect(local?.layers[0]?.sharedWith).toEqual(['ci']);
    expect(ci?.layers[0]?.sharedWith).toEqual(['local']);
    // A new environment on the same first folder starts from the shared layer template.
    project.writeConfig('[environments.local]\n\n[environments.ci]\ninclude_directories = ["0_schema", "1_seed"]\n\n[environments.demo]\ninclude_directories = ["0_schema", "1_seed"]\n');
    const third = await buildTemplate({ config: project.config(), environment: 'demo', background: 'wait' });
    expect(third.layers.map((layer) => [layer.label, layer.state])).toEqual([
      ['0_schema', 'reused'],
      ['1_seed', 'rebuilt'],
    ]);
    expect(third.layers[0]?.template).toBe(local?.layers[0]?.template);
  });

  it('a failure in layer k leaves every template usable, and the next build starts again from k', async () => {
    const project = await layeredProject();
    const templates = (await status({ config: project.config() })).environments[0]?.layers.map((layer) => layer.template) ?? [];
    const comments = await Promise.all(templates.map(async (name) => (await isTemplate(name))?.comment));
    project.write('1_seed/030_bad.sql', "INSERT INTO item VALUES (7, 1, 'fine');\nINSERT INTO item VALUES (8, 99, 'no such category');\n");
    const error = await buildTemplate({ config: project.config(), background: 'wait' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbfastError);
    expect((error as DbfastError).code).toBe('SQL_ERROR');
    expect((error as DbfastError).message).toContain('1_seed/030_bad.sql:2');
    expect(await Promise.all(templates.map(async (name) => (await isTemplate(name))?.comment))).toEqual(comments);
    expect(unfinished(await projectDatabases(project))).toEqual([]);
    // Still clonable as it was (seed would try to rebuild: the broken file is still there).
    const copy = `${project.templateName}_c${clones++}`;
    await query(local.adminUrl, `CREATE DATABASE "${copy}" TEMPLATE "${project.template()}"`);
    expect((await query<{ name: string }>(urlFor(local.adminUrl, copy), 'SELECT name FROM item ORDER BY id')).map((row) => row.name)).toEqual(['hammer', 'kite', 'saw']);
    project.write('1_seed/030_bad.sql', "INSERT INTO item VALUES (7, 1, 'fine');\nINSERT INTO item VALUES (8, 2, 'now fine');\n");
    const fixed = await buildTemplate({ config: project.config(), background: 'wait' });
    expect(fixed.layers.map((layer) => layer.state)).toEqual(['reused', 'rebuilt', 'rebuilt']);
    expect(await itemNames(project)).toEqual(['hammer', 'kite', 'saw', 'fine', 'now fine']);
  });

  it('builds overlapping chains at the same time: both right, the shared layer built once, nothing left over', async () => {
    const project = await layeredProject('[environments.local]\n\n[environments.ci]\ninclude_directories = ["0_schema", "1_seed"]\n');
    project.write('1_seed/010_categories.sql', "INSERT INTO category VALUES (1, 'tools'), (2, 'toys'), (3, 'books');\n");
    const config = project.config();
    const [local, ci] = await Promise.all([
      buildTemplate({ config, environment: 'local', background: 'wait' }),
      buildTemplate({ config, environment: 'ci', background: 'wait' }),
    ]);
    expect(local.layers.map((layer) => layer.state)).toEqual(['reused', 'rebuilt', 'rebuilt']);
    expect(ci.layers.map((layer) => layer.state)).toEqual(['reused', 'rebuilt']);
    expect(await itemNames(project, 'local')).toEqual(['hammer', 'kite', 'saw']);
    expect(await itemNames(project, 'ci')).toEqual(['hammer', 'kite']);
    const after = await status({ config });
    expect(after.upToDate).toBe(true);
    expect(after.environments[0]?.layers.map((layer) => layer.state)).toEqual(['fresh', 'fresh', 'fresh']);
    // local's layer 1 and ci's template hold the same files: one layer template, plus the two environments' templates.
    const names = await projectDatabases(project);
    expect(unfinished(names)).toEqual([]);
    expect(names.filter((name) => name === after.environments[0]?.layers[1]?.template)).toHaveLength(1);
  });

  it("a filter change in one environment does not invalidate the layers another one shares", async () => {
    const both = '[environments.local]\n\n[environments.ci]\ninclude_directories = ["0_schema", "1_seed"]\n';
    const project = await layeredProject(both);
    const localLayers = (await status({ config: project.config(), environment: 'local' })).environments[0]?.layers.map((layer) => layer.template) ?? [];
    // ci leaves out one seed file: its last layer changes, its first (shared) one does not.
    project.writeConfig(`${both}exclude_files = ["1_seed/020_items.sql"]\n`);
    const changed = await status({ config: project.config() });
    expect(changed.environments.map((entry) => [entry.environment, entry.state])).toEqual([
      ['local', 'fresh'],
      ['ci', 'stale'],
    ]);
    const ci = await buildTemplate({ config: project.config(), environment: 'ci', background: 'wait' });
    expect(ci.layers.map((layer) => layer.state)).toEqual(['reused', 'rebuilt']);
    // The worker's clean-up ran (wait): local's layer templates are all still there and fresh.
    const after = await status({ config: project.config(), environment: 'local' });
    expect(after.environments[0]).toMatchObject({ state: 'fresh' });
    expect(after.environments[0]?.layers.map((layer) => layer.state)).toEqual(['fresh', 'fresh', 'fresh']);
    for (const name of localLayers) expect(await isTemplate(name)).toBeDefined();
    // Now a change that gives ci a first layer of its own: local's stays.
    project.write('0_schema/020_extra.sql', 'CREATE TABLE extra (id int);\n');
    project.writeConfig(`${both}exclude_files = ["0_schema/020_extra.sql"]\n`);
    await buildTemplate({ config: project.config(), environment: 'local', background: 'wait' });
    const localNow = (await status({ config: project.config(), environment: 'local' })).environments[0];
    const ciNow = await buildTemplate({ config: project.config(), environment: 'ci', background: 'wait' });
    expect(ciNow.layers[0]?.template).not.toBe(localNow?.layers[0]?.template);
    expect((await status({ config: project.config() })).upToDate).toBe(true);
    expect(await isTemplate(localNow?.layers[0]?.template as string)).toBeDefined();
  });

  it('layers = "none" keeps one template per environment, as before layers', async () => {
    const project = makeProject({ files: FILES, environments: '[environments.local]\nlayers = "none"\n' });
    const first = await buildTemplate({ config: project.config(), background: 'wait' });
    expect(first.layers.map((layer) => [layer.label, layer.files, layer.template])).toEqual([['all', 4, project.template()]]);
    project.write('2_test/010_more.sql', "INSERT INTO item VALUES (3, 1, 'chisel');\n");
    const second = await buildTemplate({ config: project.config(), background: 'wait' });
    expect(second.layers.map((layer) => layer.state)).toEqual(['rebuilt']);
    const templates = (await projectDatabases(project)).filter((name) => !/__dbfast_spare_/.test(name));
    expect(templates).toEqual([project.template()]);
    expect((await status({ config: project.config() })).environments[0]?.layers).toHaveLength(1);
    expect(await itemNames(project)).toEqual(['hammer', 'kite', 'chisel']);
  });

  it('groups folders into configured layers, and refuses layers that do not follow the run order', async () => {
    const project = makeProject({ files: FILES, environments: '[environments.local]\nlayers = [["0_schema"], ["1_seed", "2_test"]]\n' });
    const built = await buildTemplate({ config: project.config(), background: 'wait' });
    expect(built.layers.map((layer) => [layer.label, layer.files])).toEqual([
      ['0_schema', 1],
      ['1_seed+2_test', 3],
    ]);
    project.writeConfig('[environments.local]\nlayers = [["1_seed"], ["0_schema", "2_test"]]\n');
    await expect(buildTemplate({ config: project.config() })).rejects.toMatchObject({ code: 'LAYERS_INVALID', exitCode: 2 });
    project.writeConfig('[environments.local]\nlayers = [["0_schema"], ["1_seed"]]\n');
    const missing = await buildTemplate({ config: project.config() }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'LAYERS_INVALID' });
    expect((missing as Error).message).toContain('2_test/010_more.sql is in none of the layers');
  });
});
