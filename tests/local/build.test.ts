import { describe, expect, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { decodeManifest } from '../../src/local/manifest.js';
import { projectOwner } from '../../src/local/owner.js';
import { seed } from '../../src/local/seed.js';
import { DbfastError } from '../../src/errors.js';
import { dbfastVersion } from '../../src/version.js';
import { local, query, urlFor } from '../support/db.js';
import { isTemplate, makeProject, projectDatabases } from '../support/project.js';

async function itemNames(database: string): Promise<string[]> {
  const rows = await query<{ name: string }>(urlFor(local.adminUrl, database), 'SELECT name FROM item ORDER BY id');
  return rows.map((row) => row.name);
}

describe('buildTemplate', () => {
  it('builds a template marked IS_TEMPLATE, refusing connections, with its manifest', async () => {
    const project = makeProject();
    const result = await buildTemplate({ config: project.config() });
    expect(result).toMatchObject({ template: project.template(), environment: 'local', rebuilt: true, reused: false, files: 2 });
    const info = await isTemplate(project.template());
    expect(info?.istemplate).toBe(true);
    expect(info?.allowconn).toBe(false);
    const manifest = decodeManifest(info?.comment);
    expect(manifest).toMatchObject({ dbfastVersion: dbfastVersion(), environment: 'local', fileCount: 2, template: project.template() });
    expect(Object.keys(manifest?.files ?? {})).toEqual(['0_schema/010_item.sql', '1_seed/010_items.sql']);
    expect(manifest?.files['0_schema/010_item.sql']).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest?.serverVersion).toBeGreaterThanOrEqual(140000);
    expect(manifest?.sizeBytes).toBeGreaterThan(0);
    expect(Date.parse(manifest?.builtAt ?? '')).not.toBeNaN();
    expect(await projectDatabases(project)).toEqual([project.template()]);
  });

  it('does nothing when the template is fresh, and rebuilds with force', async () => {
    const project = makeProject();
    const first = await buildTemplate({ config: project.config() });
    const again = await buildTemplate({ config: project.config() });
    expect(again).toMatchObject({ rebuilt: false, reused: false });
    expect(again.manifest.builtAt).toBe(first.manifest.builtAt);
    const forced = await buildTemplate({ config: project.config(), force: true, background: 'wait' });
    expect(forced.rebuilt).toBe(true);
    expect(forced.manifest.builtAt).not.toBe(first.manifest.builtAt);
    // The old template was swapped out and dropped (by the background work, done here before returning).
    expect((await projectDatabases(project)).filter((name) => /__dbfast_(old|build)_/.test(name))).toEqual([]);
    expect(await projectDatabases(project)).toContain(project.template());
    expect(decodeManifest((await isTemplate(project.template()))?.comment)?.builtAt).toBe(forced.manifest.builtAt);
  });

  it('leaves the previous template usable and no side database when a file fails', async () => {
    const project = makeProject();
    await buildTemplate({ config: project.config() });
    const before = (await isTemplate(project.template()))?.comment;
    project.write('1_seed/020_broken.sql', 'INSERT INTO item VALUES (3, 1/0);\n');
    const error = await buildTemplate({ config: project.config() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbfastError);
    expect((error as DbfastError).code).toBe('SQL_ERROR');
    expect((error as DbfastError).message).toContain('1_seed/020_broken.sql');
    expect((error as DbfastError).message).toMatch(/division by zero/);
    expect(await projectDatabases(project)).toEqual([project.template()]);
    expect((await isTemplate(project.template()))?.comment).toBe(before);
    // Still clonable, with the old contents.
    project.remove('1_seed/020_broken.sql');
    const clone = await seed({ config: project.config(), output: `${project.templateName}_after_failure` });
    expect(clone.rebuilt).toBe(false);
    expect(await itemNames(clone.database)).toEqual(['kettle', 'teapot']);
  });

  it('drops side databases a dead build left behind, and never a foreign one that looks similar', async () => {
    const project = makeProject();
    const leftover = `${project.template()}__dbfast_build_deadbeef`;
    const foreign = `${project.template()}__dbfast_build_cafebabe`;
    await query(local.adminUrl, `CREATE DATABASE "${leftover}"`);
    // Marked for this project: a leftover marked without an owner (before owners were recorded)
    // is every project's to reap, and another test file's worker could be dropping it right now.
    const mark = { template: 'x', startedAt: '2020-01-01T00:00:00Z', owner: projectOwner(project.config()) };
    await query(local.adminUrl, `COMMENT ON DATABASE "${leftover}" IS 'dbfast:build:v1 ${JSON.stringify(mark)}'`);
    await query(local.adminUrl, `CREATE DATABASE "${foreign}"`);
    // Leftovers go to the background worker; `wait` runs it before the call returns.
    await buildTemplate({ config: project.config(), background: 'wait' });
    expect(await projectDatabases(project)).toEqual([project.template(), foreign]);
  });

  it('refuses to replace a database of the template name that dbfast did not make', async () => {
    const project = makeProject();
    await query(local.adminUrl, `CREATE DATABASE "${project.template()}"`);
    await query(urlFor(local.adminUrl, project.template()), 'CREATE TABLE precious (id int)');
    const error = await buildTemplate({ config: project.config() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TEMPLATE_NAME_TAKEN', exitCode: 2 });
    const still = await query(urlFor(local.adminUrl, project.template()), "SELECT 1 FROM pg_class WHERE relname = 'precious'");
    expect(still).toHaveLength(1);
  });

  it('refuses a template name too long for PostgreSQL with its build suffix', async () => {
    const project = makeProject({ environments: '[environments.a_rather_long_environment_name]\n' });
    // Refused when the config loads, naming the key, before anything reaches the server.
    const error = await Promise.resolve()
      .then(() => buildTemplate({ config: project.config() }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
    expect((error as Error).message).toMatch(/database\.template_name: .* is too long for environment "a_rather_long_environment_name"/);
    expect(await projectDatabases(project)).toEqual([]);
  });

  it('refuses seed data in a production environment before touching the server', async () => {
    const project = makeProject({ environments: '[environments.production]\n' });
    const error = await buildTemplate({ config: project.config(), environment: 'production' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PRODUCTION_GUARD' });
    expect(await projectDatabases(project)).toEqual([]);
  });

  it('runs files with the psql runner too', async () => {
    const project = makeProject();
    const result = await buildTemplate({ config: project.config(), runner: 'psql' });
    expect(result.rebuilt).toBe(true);
    const clone = await seed({ config: project.config(), output: `${project.templateName}_psql` });
    expect(await itemNames(clone.database)).toEqual(['kettle', 'teapot']);
  });

  it('lets two concurrent builds of one template build once: the second waits and reuses', async () => {
    const project = makeProject();
    // Slow enough that the second build starts while the first holds the lock.
    project.write('0_schema/000_slow.sql', 'SELECT pg_sleep(1);\n');
    const config = project.config();
    const results = await Promise.all([buildTemplate({ config }), buildTemplate({ config })]);
    expect(results.map((r) => r.rebuilt).sort()).toEqual([false, true]);
    const reuser = results.find((r) => !r.rebuilt);
    expect(reuser?.reused).toBe(true);
    expect(reuser?.manifest.builtAt).toBe(results.find((r) => r.rebuilt)?.manifest.builtAt);
    expect(await projectDatabases(project)).toEqual([project.template()]);
    const clone = await seed({ config, output: `${project.templateName}_concurrent` });
    expect(await itemNames(clone.database)).toEqual(['kettle', 'teapot']);
  });
});
