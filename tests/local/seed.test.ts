import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { seed } from '../../src/local/seed.js';
import { buildTemplate } from '../../src/local/build.js';
import { decodeClone } from '../../src/local/manifest.js';
import { DbfastError } from '../../src/errors.js';
import { local, query, urlFor } from '../support/db.js';
import { isTemplate, makeProject, type TestProject } from '../support/project.js';

async function itemNames(database: string): Promise<string[]> {
  const rows = await query<{ name: string }>(urlFor(local.adminUrl, database), 'SELECT name FROM item ORDER BY id');
  return rows.map((row) => row.name);
}

function clone(project: TestProject, suffix: string): string {
  return `${project.templateName}_c_${suffix}`;
}

/** A superuser session on the template: allowed in for a moment, as someone debugging it might. */
async function sessionOnTemplate(template: string, applicationName: string): Promise<pg.Client> {
  await query(local.adminUrl, `ALTER DATABASE "${template}" ALLOW_CONNECTIONS true`);
  const client = new pg.Client({ connectionString: urlFor(local.adminUrl, template), application_name: applicationName });
  client.on('error', () => undefined);
  await client.connect();
  await query(local.adminUrl, `ALTER DATABASE "${template}" ALLOW_CONNECTIONS false`);
  return client;
}

describe('seed', () => {
  it('builds a missing template, clones it, and records where the clone came from', async () => {
    const project = makeProject();
    const name = clone(project, 'first');
    const result = await seed({ config: project.config(), output: name });
    expect(result).toMatchObject({ database: name, template: project.template(), environment: 'local', rebuilt: true });
    expect(result.url).toContain(`/${name}`);
    expect(result.cloneMs).toBeGreaterThan(0);
    expect(result.durationMs).toBeGreaterThanOrEqual(result.cloneMs);
    // The whole call: the build it did first is part of durationMs, and its share is given apart.
    expect(result.rebuildMs).toBeGreaterThan(0);
    expect(result.durationMs).toBeGreaterThanOrEqual((result.rebuildMs ?? 0) + result.cloneMs);
    expect(await itemNames(name)).toEqual(['kettle', 'teapot']);
    const info = await isTemplate(name);
    expect(info?.istemplate).toBe(false);
    expect(decodeClone(info?.comment)).toMatchObject({ template: project.template(), environment: 'local' });
    const again = await seed({ config: project.config(), output: clone(project, 'second') });
    expect(again.rebuilt).toBe(false);
    expect(again.rebuildMs).toBeNull();
  });

  it('rebuilds a stale template before cloning, and on request', async () => {
    const project = makeProject();
    await seed({ config: project.config(), output: clone(project, 'a') });
    project.write('1_seed/020_more.sql', "INSERT INTO item VALUES (3, 'mug');\n");
    const stale = await seed({ config: project.config(), output: clone(project, 'b') });
    expect(stale.rebuilt).toBe(true);
    expect(stale.durationMs).toBeGreaterThanOrEqual((stale.rebuildMs ?? Infinity) + stale.cloneMs);
    expect(await itemNames(clone(project, 'b'))).toEqual(['kettle', 'teapot', 'mug']);
    expect(await itemNames(clone(project, 'a'))).toEqual(['kettle', 'teapot']);
    const forced = await seed({ config: project.config(), output: clone(project, 'c'), rebuild: true });
    expect(forced.rebuilt).toBe(true);
  });

  it('refuses an existing database unless forced, and never replaces a template', async () => {
    const project = makeProject();
    const name = clone(project, 'exists');
    await seed({ config: project.config(), output: name });
    await query(urlFor(local.adminUrl, name), "INSERT INTO item VALUES (9, 'scribble')");
    const refused = await seed({ config: project.config(), output: name }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'DATABASE_EXISTS', exitCode: 2 });
    expect(await itemNames(name)).toEqual(['kettle', 'teapot', 'scribble']);
    // A session on the database being replaced does not stop --force.
    const holder = new pg.Client({ connectionString: urlFor(local.adminUrl, name) });
    holder.on('error', () => undefined);
    await holder.connect();
    await seed({ config: project.config(), output: name, force: true });
    await holder.end().catch(() => undefined);
    expect(await itemNames(name)).toEqual(['kettle', 'teapot']);
    for (const output of [project.template(), 'template1']) {
      const error = await seed({ config: project.config(), output, force: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DbfastError);
      expect((error as DbfastError).code).toBe('DATABASE_PROTECTED');
    }
    expect((await isTemplate(project.template()))?.istemplate).toBe(true);
  });

  it('picks the environment: local by default, else the only one, else asks', async () => {
    const two = makeProject({ environments: '[environments.test]\ninclude_directories = ["0_schema"]\n[environments.local]\n' });
    expect((await seed({ config: two.config(), output: clone(two, 'default') })).environment).toBe('local');
    const test = await seed({ config: two.config(), output: clone(two, 'test'), environment: 'test' });
    expect(test).toMatchObject({ environment: 'test', template: two.template('test') });
    const only = makeProject({ environments: '[environments.ci]\n' });
    expect((await seed({ config: only.config(), output: clone(only, 'only') })).template).toBe(only.template('ci'));
    const ambiguous = makeProject({ environments: '[environments.a]\n[environments.b]\n' });
    const error = await seed({ config: ambiguous.config(), output: clone(ambiguous, 'x') }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENVIRONMENT_REQUIRED', exitCode: 2 });
    const unknown = await seed({ config: two.config(), output: clone(two, 'y'), environment: 'nope' }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'ENVIRONMENT_UNKNOWN', exitCode: 2 });
  });

  it("ends dbfast's own leftover session on the template and clones anyway", async () => {
    const project = makeProject();
    await buildTemplate({ config: project.config() });
    const leftover = await sessionOnTemplate(project.template(), 'dbfast build');
    const result = await seed({ config: project.config(), output: clone(project, 'own') });
    expect(await itemNames(result.database)).toEqual(['kettle', 'teapot']);
    const sessions = await query(local.adminUrl, 'SELECT pid FROM pg_stat_activity WHERE datname = $1', [project.template()]);
    expect(sessions).toEqual([]);
    await leftover.end().catch(() => undefined);
  });

  it("names someone else's session on the template instead of failing obscurely", async () => {
    const project = makeProject();
    await buildTemplate({ config: project.config() });
    const session = await sessionOnTemplate(project.template(), 'someone-debugging');
    try {
      const pid = (await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      const error = await seed({ config: project.config(), output: clone(project, 'blocked') }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DbfastError);
      const e = error as DbfastError;
      expect(e.code).toBe('TEMPLATE_IN_USE');
      expect(e.message).toContain(`pid ${pid}`);
      expect(e.message).toContain('someone-debugging');
      expect(e.hint).toContain(`pg_terminate_backend`);
      // Still connected: dbfast does not end other people's sessions.
      expect((await session.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await session.end();
    }
    const after = await seed({ config: project.config(), output: clone(project, 'unblocked') });
    expect(await itemNames(after.database)).toEqual(['kettle', 'teapot']);
  });

  it('puts a template that was opened to connections back to refusing them', async () => {
    const project = makeProject();
    await buildTemplate({ config: project.config() });
    await query(local.adminUrl, `ALTER DATABASE "${project.template()}" ALLOW_CONNECTIONS true`);
    await seed({ config: project.config(), output: clone(project, 'closed') });
    expect((await isTemplate(project.template()))?.allowconn).toBe(false);
  });

  it('runs eight seeds from one template at once, building it only once', async () => {
    const project = makeProject();
    const config = project.config();
    const names = Array.from({ length: 8 }, (_, i) => clone(project, `p${i}`));
    const results = await Promise.all(names.map((output) => seed({ config, output })));
    expect(results.filter((r) => r.rebuilt)).toHaveLength(1);
    for (const name of names) expect(await itemNames(name)).toEqual(['kettle', 'teapot']);
  });

  it('seeds taken while the template is being rebuilt and swapped all get a complete copy', async () => {
    const project = makeProject();
    const config = project.config();
    await buildTemplate({ config });
    const rebuilds = (async () => {
      for (let i = 0; i < 3; i++) await buildTemplate({ config, force: true });
    })();
    const names: string[] = [];
    const seeds = (async () => {
      for (let i = 0; i < 6; i++) {
        const output = clone(project, `during${i}`);
        await seed({ config, output });
        names.push(output);
      }
    })();
    await Promise.all([rebuilds, seeds]);
    for (const name of names) expect(await itemNames(name)).toEqual(['kettle', 'teapot']);
    expect((await isTemplate(project.template()))?.istemplate).toBe(true);
  });

  it('leaves the password out of the URL it returns (no secret, and no mask a script would take for the password)', async () => {
    const url = new URL(local.adminUrl);
    url.password = 's3cret-pw';
    const project = makeProject({ url: url.toString() });
    const result = await seed({ config: project.config(), output: clone(project, 'masked') });
    expect(result.url).not.toContain('***');
    expect(new URL(result.url).password).toBe('');
    expect(JSON.stringify(result)).not.toContain('s3cret-pw');
  });
});
