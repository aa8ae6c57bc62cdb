import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { seed } from '../../src/local/seed.js';
import { status } from '../../src/local/status.js';
import { runCli } from '../support/cli.js';
import { local, query, uniqueName } from '../support/db.js';
import { makeProject, type TestProject } from '../support/project.js';

// The CLI part runs the built dist/ (npm test builds first; `npx tsc -p tsconfig.build.json` by hand).
const env = { DBFAST_CONFIG: undefined, DATABASE_URL: undefined, DBFAST_DATABASE_URL: undefined };
const roles: string[] = [];
afterAll(async () => {
  for (const role of roles) await query(local.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
});

function newRole(prefix: string): string {
  const role = uniqueName(prefix);
  roles.push(role);
  return role;
}

/** A setup file that (re)creates `role`: no template depends on it, so DROP ROLE keeps working. */
function roleSql(role: string): string {
  return `DROP ROLE IF EXISTS "${role}";\nCREATE ROLE "${role}" NOLOGIN;\n`;
}

async function roleExists(role: string): Promise<boolean> {
  return (await query(local.adminUrl, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).length === 1;
}

/** Rewrites the project's `cluster_setup = [...]` line. */
function listClusterSetup(project: TestProject, files: string[]): void {
  const text = readFileSync(project.configPath, 'utf8').replace(/^cluster_setup = .*$/m, `cluster_setup = ${JSON.stringify(files)}`);
  writeFileSync(project.configPath, text);
}

async function localStatus(project: TestProject): Promise<Awaited<ReturnType<typeof status>>['environments'][number]> {
  return (await status({ config: project.config() })).environments[0] as Awaited<ReturnType<typeof status>>['environments'][number];
}

describe('cluster_setup files and the template', () => {
  it('a cluster_setup file edited, added, removed or listed but missing makes the template stale, naming it; seed rebuilds (running the setup)', async () => {
    const [first, second, third] = [newRole('cs_first'), newRole('cs_second'), newRole('cs_third')];
    const project = makeProject({
      files: { '0_setup/010_roles.sql': roleSql(first), '1_schema/010_t.sql': 'CREATE TABLE t (id int);\n' },
      repository: 'cluster_setup = ["0_setup/010_roles.sql"]\n',
    });
    await buildTemplate({ config: project.config() });
    expect(await localStatus(project)).toMatchObject({ state: 'fresh' });

    // Edited.
    project.write('0_setup/010_roles.sql', roleSql(first) + roleSql(second));
    expect(await localStatus(project)).toMatchObject({ state: 'stale', added: [], modified: [], removed: [], clusterSetup: { added: [], modified: ['0_setup/010_roles.sql'], removed: [], missing: [] } });
    const human = await runCli(['status'], { cwd: project.dir, env });
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stdout).toContain('cluster setup modified  0_setup/010_roles.sql');
    const afterEdit = await seed({ config: project.config(), output: `${project.templateName}_c_edit` });
    expect(afterEdit.rebuilt).toBe(true);
    expect(await roleExists(second)).toBe(true);
    expect(await localStatus(project)).toMatchObject({ state: 'fresh' });

    // A new file listed.
    project.write('0_setup/020_more.sql', roleSql(third));
    listClusterSetup(project, ['0_setup/010_roles.sql', '0_setup/020_more.sql']);
    expect(await localStatus(project)).toMatchObject({ state: 'stale', clusterSetup: { added: ['0_setup/020_more.sql'], modified: [], removed: [], missing: [] } });
    expect((await seed({ config: project.config(), output: `${project.templateName}_c_add` })).rebuilt).toBe(true);
    expect(await roleExists(third)).toBe(true);

    // Taken off the list (and deleted: left in 0_setup/ it would be a template file).
    listClusterSetup(project, ['0_setup/010_roles.sql']);
    project.remove('0_setup/020_more.sql');
    expect(await localStatus(project)).toMatchObject({ state: 'stale', clusterSetup: { added: [], modified: [], removed: ['0_setup/020_more.sql'], missing: [] } });
    expect((await seed({ config: project.config(), output: `${project.templateName}_c_remove` })).rebuilt).toBe(true);
    expect(await localStatus(project)).toMatchObject({ state: 'fresh' });

    // Listed, but the file is gone: stale, and seed refuses (it cannot run the setup) instead of cloning.
    project.remove('0_setup/010_roles.sql');
    expect(await localStatus(project)).toMatchObject({ state: 'stale', clusterSetup: { added: [], modified: [], removed: [], missing: ['0_setup/010_roles.sql'] } });
    const missing = await runCli(['status'], { cwd: project.dir, env });
    expect(missing.stdout).toContain('cluster setup missing   0_setup/010_roles.sql');
    await expect(seed({ config: project.config(), output: `${project.templateName}_c_missing` })).rejects.toMatchObject({ code: 'CLUSTER_SETUP_MISSING' });
  });

  it('a file a cluster_setup file includes counts as part of it; a non-.sql setup file too', async () => {
    const [first, second] = [newRole('cs_inc'), newRole('cs_inc2')];
    const project = makeProject({
      files: { 'setup/roles.psql': '\\ir parts/roles.sql\n', 'setup/parts/roles.sql': roleSql(first), '1_schema/010_t.sql': 'CREATE TABLE t (id int);\n' },
      repository: 'cluster_setup = ["setup/roles.psql"]\n',
      environments: '[environments.local]\ninclude_directories = ["1_schema"]\n',
    });
    await buildTemplate({ config: project.config() });
    expect(await localStatus(project)).toMatchObject({ state: 'fresh' });
    project.write('setup/parts/roles.sql', roleSql(first) + roleSql(second));
    expect(await localStatus(project)).toMatchObject({ state: 'stale', clusterSetup: { modified: ['setup/parts/roles.sql'] } });
    expect((await buildTemplate({ config: project.config() })).rebuilt).toBe(true);
    expect(await roleExists(second)).toBe(true);
    project.write('setup/roles.psql', '\\ir parts/roles.sql\nSELECT 1;\n');
    expect(await localStatus(project)).toMatchObject({ state: 'stale', clusterSetup: { modified: ['setup/roles.psql'] } });
  });
});
