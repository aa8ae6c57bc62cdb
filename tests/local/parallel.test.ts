import { describe, expect, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { seed } from '../../src/local/seed.js';
import { DbfastError } from '../../src/errors.js';
import { local, query, urlFor } from '../support/db.js';
import { isTemplate, makeProject, projectDatabases, type TestProject } from '../support/project.js';
import { dumpOf, unfinished } from './support.js';

const rows = (count: number, line: (i: number) => string): string => Array.from({ length: count }, (_v, i) => line(i + 1)).join('\n');

const FILES = {
  '0_schema/010_tables.sql': [
    'CREATE TABLE parent (id int PRIMARY KEY, name text NOT NULL);',
    'CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent);',
    'CREATE TABLE other (id int PRIMARY KEY, note text);',
    'CREATE TABLE measure (id int NOT NULL, at int NOT NULL) PARTITION BY RANGE (at);',
    'CREATE TABLE measure_low PARTITION OF measure FOR VALUES FROM (0) TO (500);',
    'CREATE TABLE measure_high PARTITION OF measure FOR VALUES FROM (500) TO (1000);',
    'CREATE TABLE measure_note (id int PRIMARY KEY, parent_id int REFERENCES parent);',
    '',
  ].join('\n'),
  // Loads whose order matters (child and measure_note reference parent) and ones whose order does not.
  '1_data/010_parent.sql': `COPY public.parent (id, name) FROM stdin;\n${rows(2000, (i) => `${i}\tparent ${i}`)}\n\\.\n`,
  '1_data/020_child.sql': 'INSERT INTO child SELECT g, g FROM generate_series(1, 2000) AS g;\n',
  '1_data/030_other.sql': `SET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\nCOPY public.other (id, note) FROM stdin;\n${rows(500, (i) => `${i}\tnote ${i}`)}\n\\.\n`,
  '1_data/040_measure_low.sql': 'INSERT INTO public.measure_low SELECT g, g % 500 FROM generate_series(1, 1000) AS g;\n',
  '1_data/050_measure.sql': 'INSERT INTO public.measure SELECT g, 500 + g % 500 FROM generate_series(1001, 2000) AS g;\n',
  '1_data/060_sleep_a.sql': 'SELECT pg_sleep(1.5);\n',
  '1_data/070_sleep_b.sql': 'SELECT pg_sleep(1.5);\n',
  // Not a load: runs alone, after everything before it. (Names after 030 are qualified: 030 empties
  // search_path, and files run in order on one connection keep each other's session settings.)
  '1_data/080_index.sql': 'CREATE INDEX other_note ON public.other (note);\n',
  '1_data/090_notes.sql': 'INSERT INTO public.measure_note SELECT g, g FROM generate_series(1, 100) AS g;\n',
  '1_data/100_setval.sql': "SELECT 1;\n",
};

const PARALLEL = '[environments.local]\nlayers = [{ folders = ["0_schema"] }, { folders = ["1_data"], parallel = 4 }]\n';
const SEQUENTIAL = '[environments.local]\nlayers = [{ folders = ["0_schema"] }, { folders = ["1_data"] }]\n';

let clones = 0;
async function dumpOfTemplate(project: TestProject): Promise<string> {
  const { database } = await seed({ config: project.config(), output: `${project.templateName}_c${clones++}`, background: 'wait' });
  return dumpOf(database);
}

describe('parallel data layers (issue 14)', () => {
  it('runs the files of a parallel layer on several connections, and gets what running them in order gets', async () => {
    const parallel = makeProject({ files: FILES, environments: PARALLEL });
    let most = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        const [row] = await query<{ n: number }>(
          local.adminUrl,
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE starts_with(datname, $1) AND query LIKE 'SELECT pg_sleep%' AND state = 'active'",
          [parallel.templateName],
        );
        most = Math.max(most, row?.n ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const built = await buildTemplate({ config: parallel.config(), background: 'wait' }).finally(() => (watching = false));
    await watch;
    expect(most, 'the two sleeping files ran at the same time').toBe(2);
    expect(built.layers.map((layer) => [layer.label, layer.files])).toEqual([
      ['0_schema', 1],
      ['1_data', 10],
    ]);
    const sequential = makeProject({ files: FILES, environments: SEQUENTIAL });
    await buildTemplate({ config: sequential.config(), background: 'wait' });
    expect(await dumpOfTemplate(parallel)).toBe(await dumpOfTemplate(sequential));
  });

  it("a database setting an earlier file made is in force in every later file, whichever connection runs it (as psql's session per file)", async () => {
    const files = {
      '0_schema/010_table.sql': 'CREATE TABLE flavour (seen text);\n',
      '1_data/010_setting.sql': 'ALTER DATABASE :"DBNAME" SET app.flavour = \'mint\';\n',
      ...Object.fromEntries(Array.from({ length: 4 }, (_v, i) => [`1_data/02${i}_seen.sql`, "INSERT INTO flavour SELECT current_setting('app.flavour', true);\n"])),
    };
    const project = makeProject({ files, environments: PARALLEL });
    await buildTemplate({ config: project.config(), background: 'wait' });
    const { database } = await seed({ config: project.config(), output: `${project.templateName}_c${clones++}`, background: 'wait' });
    expect(await query<{ seen: string | null }>(urlFor(local.adminUrl, database), 'SELECT seen FROM flavour')).toEqual(Array.from({ length: 4 }, () => ({ seen: 'mint' })));
  });

  it('a failing file names file:line, stops the layer, and leaves the previous template usable', async () => {
    const project = makeProject({ files: FILES, environments: PARALLEL });
    await buildTemplate({ config: project.config(), background: 'wait' });
    const before = (await isTemplate(project.template()))?.comment;
    project.write('1_data/055_bad.sql', 'INSERT INTO child VALUES (90001, 1);\nINSERT INTO child VALUES (90002, 424242);\n');
    const error = await buildTemplate({ config: project.config(), background: 'wait' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbfastError);
    expect((error as DbfastError).code).toBe('SQL_ERROR');
    expect((error as DbfastError).message).toContain('1_data/055_bad.sql:2');
    expect((await isTemplate(project.template()))?.comment).toBe(before);
    expect(unfinished(await projectDatabases(project))).toEqual([]);
  });
});
