import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { status } from '../../src/local/status.js';
import { local, query, trackDatabase, uniqueName, urlFor } from '../support/db.js';
import { makeProject, projectDatabases, type TestProject } from '../support/project.js';

const pgBinDir = inject('pgBinDir') || undefined;
const roles: string[] = [];
afterAll(async () => {
  for (const role of roles) await query(local.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
});

async function cloneRows(project: TestProject, sql: string): Promise<Array<Record<string, unknown>>> {
  const clone = uniqueName('clone');
  await query(local.adminUrl, `CREATE DATABASE "${clone}" TEMPLATE "${project.template()}"`);
  trackDatabase(local, clone);
  return query(urlFor(local.adminUrl, clone), sql);
}

async function buildError(project: TestProject, runner?: 'psql'): Promise<Error & { code?: string; hint?: string }> {
  const config = { ...project.config(), tools: { pgBinDir } };
  return buildTemplate({ config, runner }).then(
    () => {
      throw new Error('the build should have been refused');
    },
    (error: unknown) => error as Error & { code?: string; hint?: string },
  );
}

describe('psql variables from dbfast.toml', () => {
  it('[repository] variables (with ${ENV}) and [environments.NAME] variables reach the build; a change makes the template stale', async () => {
    const project = makeProject({
      files: { '0_schema/010_vars.sql': "CREATE TABLE vars AS SELECT :'owner'::text AS owner, :'greeting'::text AS greeting, :'DBNAME' = current_database() AS own_name;\n" },
      repository: 'variables = { owner = "${TEST_OWNER}", greeting = "hello" }\n',
      environments: '[environments.local]\nvariables = { greeting = "hi" }\n',
    });
    const env = { TEST_OWNER: "o'wner" };
    await buildTemplate({ config: project.config(env) });
    // DBNAME is the database being built (the side database), as psql would give it.
    expect(await cloneRows(project, 'SELECT * FROM vars')).toEqual([{ owner: "o'wner", greeting: 'hi', own_name: true }]);
    expect((await status({ config: project.config(env) })).environments[0]).toMatchObject({ state: 'fresh' });
    expect((await status({ config: project.config({ TEST_OWNER: 'someone else' }) })).environments[0]).toMatchObject({ state: 'stale' });
  });

  it("refuses a variable named like one psql sets itself, naming the key", () => {
    const project = makeProject({ repository: 'variables = { DBNAME = "x" }\n' });
    expect(() => project.config()).toThrow(/repository\.variables\.DBNAME: psql sets DBNAME itself/);
  });
});

describe('statements that act on the whole server, and cluster_setup', () => {
  it('a build refuses CREATE ROLE in a template file, naming file:line:column and cluster_setup; no template is made', async () => {
    const project = makeProject({ files: { '0_setup/010_roles.sql': 'CREATE ROLE never_made_by_a_build;\n', '1_schema/010_t.sql': 'CREATE TABLE t (id int);\n' } });
    for (const runner of [undefined, 'psql'] as const) {
      const error = await buildError(project, runner);
      expect(error.code).toBe('SQL_SERVER_WIDE');
      expect(error.message).toBe('0_setup/010_roles.sql:1:1: CREATE ROLE acts on the whole server, not on the database being built');
      expect(error.hint).toMatch(/cluster_setup = \["0_setup\/010_roles\.sql"\]/);
    }
    expect(await projectDatabases(project)).toEqual([]);
  });

  it("a build refuses ALTER DATABASE naming the template's own final name (the build replaces that database), in both runners", async () => {
    const project = makeProject({ files: { '0_schema/010_t.sql': 'CREATE TABLE t (id int);\n' } });
    await buildTemplate({ config: project.config() });
    project.write('0_schema/020_flag.sql', `-- the template's final name, not :"DBNAME"\nALTER DATABASE "${project.template()}" SET app.flag = 'on';\n`);
    for (const runner of [undefined, 'psql'] as const) {
      const error = await buildError(project, runner);
      expect(error.code).toBe('SQL_SERVER_WIDE');
      expect(error.message).toBe(`0_schema/020_flag.sql:2:16: ALTER DATABASE "${project.template()}" names another database, not the database being built`);
      expect(error.hint).toMatch(/^Write ALTER DATABASE :"DBNAME" instead/);
    }
    // The old template is untouched: no setting was made on it.
    expect(await query(local.adminUrl, 'SELECT count(*)::int AS n FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1', [project.template()])).toEqual([{ n: 0 }]);
  });

  it('files listed in cluster_setup run on the server before the build (once), and are not template files', async () => {
    const role = uniqueName('app_reader');
    roles.push(role);
    const project = makeProject({
      files: {
        '0_setup/010_roles.sql': `DROP ROLE IF EXISTS "${role}";\nCREATE ROLE "${role}" NOLOGIN;\n`,
        '1_schema/010_t.sql': `CREATE TABLE t (id int);\nGRANT SELECT ON t TO "${role}";\n`,
      },
      repository: 'cluster_setup = ["0_setup/010_roles.sql"]\n',
    });
    const built = await buildTemplate({ config: project.config() });
    expect(built.files).toBe(1);
    expect(await cloneRows(project, `SELECT has_table_privilege('${role}', 't', 'SELECT') AS granted`)).toEqual([{ granted: true }]);
    // A second build does not run DROP ROLE again (the role is in use by the template now).
    project.write('1_schema/020_u.sql', 'CREATE TABLE u (id int);\n');
    expect((await buildTemplate({ config: project.config() })).rebuilt).toBe(true);
  });
});

describe('a file that switches databases', () => {
  it('build --runner psql on a script with CREATE DATABASE and \\c is refused: no template, no stray database', async () => {
    const other = uniqueName('chinook');
    const project = makeProject({ files: { '010_chinook.sql': `DROP DATABASE IF EXISTS ${other};\nCREATE DATABASE ${other};\n\\c ${other};\nCREATE TABLE artist (id int);\n` } });
    const error = await buildError(project, 'psql');
    expect(error.message).toMatch(/^010_chinook\.sql:1:1: DROP DATABASE acts on the whole server|^010_chinook\.sql:3: \\c/);
    expect(await projectDatabases(project)).toEqual([]);
    expect(await query(local.adminUrl, 'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [other])).toEqual([{ n: 0 }]);
  });
});
