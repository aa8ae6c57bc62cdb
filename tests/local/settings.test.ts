import { afterAll, describe, expect, inject, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { decodeManifest } from '../../src/local/manifest.js';
import { seed } from '../../src/local/seed.js';
import { status } from '../../src/local/status.js';
import { local, query, trackDatabase, uniqueName, urlFor } from '../support/db.js';
import { isTemplate, makeProject } from '../support/project.js';

const pgBinDir = inject('pgBinDir') || undefined;
const roles: string[] = [];
afterAll(async () => {
  for (const role of roles) await query(local.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
});

// PostgREST's style: settings on the database the files are loaded into, named through psql's :DBNAME.
const SETTINGS_SQL = `ALTER DATABASE :"DBNAME" SET request.jwt.claim.id = '-1';
ALTER DATABASE :"DBNAME" SET search_path = app, "$user", public;
CREATE SCHEMA app;
CREATE TABLE app.item (id int PRIMARY KEY);
`;

async function seedClone(project: ReturnType<typeof makeProject>, runner?: 'psql'): Promise<{ name: string; url: string; rebuilt: boolean }> {
  const name = uniqueName('clone');
  trackDatabase(local, name);
  const result = await seed({ config: { ...project.config(), tools: { pgBinDir } }, output: name, runner });
  return { name, url: urlFor(local.adminUrl, name), rebuilt: result.rebuilt };
}

async function sessionSettings(url: string): Promise<unknown> {
  return query(url, "SELECT current_setting('request.jwt.claim.id', true) AS claim, current_setting('search_path') AS path");
}

describe('per-database settings of a template', () => {
  it('are recorded in its manifest, given to every clone (both runners), and shown by status', async () => {
    for (const runner of [undefined, 'psql'] as const) {
      const project = makeProject({ files: { '0_schema/010_settings.sql': SETTINGS_SQL } });
      const clone = await seedClone(project, runner);
      expect(await sessionSettings(clone.url)).toEqual([{ claim: '-1', path: 'app, "$user", public' }]);
      // The unqualified name resolves through the clone's own search_path.
      expect(await query(clone.url, 'SELECT count(*)::int AS n FROM item')).toEqual([{ n: 0 }]);
      const expected = [
        { role: null, name: 'request.jwt.claim.id', value: '-1' },
        { role: null, name: 'search_path', value: 'app, "$user", public' },
      ];
      const manifest = decodeManifest((await isTemplate(project.template()))?.comment);
      expect(manifest?.settings).toEqual(expected);
      const report = await status({ config: project.config() });
      expect(report.environments[0]).toMatchObject({ state: 'fresh', settingsChanged: false, settings: expected });
    }
  });

  it('ALTER ROLE ... IN DATABASE settings travel to the clone for that role', async () => {
    const role = uniqueName('api_role');
    roles.push(role);
    await query(local.adminUrl, `CREATE ROLE "${role}" NOLOGIN`);
    const project = makeProject({
      files: { '0_schema/010_role_settings.sql': `ALTER ROLE "${role}" IN DATABASE :"DBNAME" SET statement_timeout = '5s';\nALTER ROLE "${role}" IN DATABASE :"DBNAME" SET search_path = api, public;\nCREATE TABLE t (id int);\n` },
    });
    const clone = await seedClone(project);
    const rows = await query(
      local.adminUrl,
      `SELECT r.rolname AS role, s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
         LEFT JOIN pg_roles r ON r.oid = s.setrole WHERE d.datname = $1`,
      [clone.name],
    );
    expect(rows.map((row) => ({ ...row, setconfig: [...(row.setconfig as string[])].sort() }))).toEqual([{ role, setconfig: ['search_path=api, public', 'statement_timeout=5s'] }]);
    const report = await status({ config: project.config() });
    expect(report.environments[0]?.settings).toEqual([
      { role, name: 'search_path', value: 'api, public' },
      { role, name: 'statement_timeout', value: '5s' },
    ]);
  });

  it('a settings-only change on the template makes it stale; seed rebuilds it and the clone has the files\' settings', async () => {
    const project = makeProject({ files: { '0_schema/010_settings.sql': SETTINGS_SQL } });
    await buildTemplate({ config: project.config() });
    expect((await status({ config: project.config() })).environments[0]).toMatchObject({ state: 'fresh', settingsChanged: false });
    await query(local.adminUrl, `ALTER DATABASE "${project.template()}" SET request.jwt.claim.id = '7'`);
    const stale = await status({ config: project.config() });
    expect(stale.upToDate).toBe(false);
    expect(stale.environments[0]).toMatchObject({ state: 'stale', added: [], modified: [], removed: [], filterChanged: false, settingsChanged: true });
    const clone = await seedClone(project);
    expect(clone.rebuilt).toBe(true);
    expect(await sessionSettings(clone.url)).toEqual([{ claim: '-1', path: 'app, "$user", public' }]);
    // A setting removed by hand is a change too.
    await query(local.adminUrl, `ALTER DATABASE "${project.template()}" RESET search_path`);
    expect((await status({ config: project.config() })).environments[0]).toMatchObject({ state: 'stale', settingsChanged: true });
    expect((await buildTemplate({ config: project.config() })).rebuilt).toBe(true);
    expect((await status({ config: project.config() })).environments[0]).toMatchObject({ state: 'fresh' });
  });

  it('set in a lower layer, they reach the template rebuilt from that layer\'s template (CREATE DATABASE ... TEMPLATE copies none)', async () => {
    const project = makeProject({ files: { '0_schema/010_settings.sql': SETTINGS_SQL, '1_seed/010_items.sql': 'INSERT INTO app.item VALUES (1);\n' } });
    // Built, then rebuilt: the layer templates are made by the (awaited) background work after a rebuild.
    await buildTemplate({ config: project.config(), background: 'wait' });
    await buildTemplate({ config: project.config(), force: true, background: 'wait' });
    project.write('1_seed/010_items.sql', 'INSERT INTO app.item VALUES (1), (2);\n');
    const rebuilt = await buildTemplate({ config: project.config(), background: 'wait' });
    expect(rebuilt.layers.map((layer) => [layer.label, layer.state])).toEqual([['0_schema', 'reused'], ['1_seed', 'rebuilt']]);
    expect(rebuilt.manifest.settings).toEqual([
      { role: null, name: 'request.jwt.claim.id', value: '-1' },
      { role: null, name: 'search_path', value: 'app, "$user", public' },
    ]);
    const clone = await seedClone(project);
    expect(await sessionSettings(clone.url)).toEqual([{ claim: '-1', path: 'app, "$user", public' }]);
    expect(await query(clone.url, 'SELECT count(*)::int AS n FROM item')).toEqual([{ n: 2 }]);
  });
});
