import { describe, expect, it } from 'vitest';
import { drop } from '../../src/local/drop.js';
import { list } from '../../src/local/list.js';
import { seed } from '../../src/local/seed.js';
import { DbfastError } from '../../src/errors.js';
import { freshDatabase, local, query } from '../support/db.js';
import { makeProject } from '../support/project.js';

async function exists(name: string): Promise<boolean> {
  return (await query(local.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;
}

describe('list and drop', () => {
  it('lists the templates and clones dbfast made, and nothing else', async () => {
    const project = makeProject();
    const foreign = await freshDatabase(local, `${project.templateName}_foreign`);
    const name = `${project.templateName}_c_listed`;
    await seed({ config: project.config(), output: name });
    const { databases } = await list({ config: project.config() });
    const mine = databases.filter((d) => d.name.startsWith(project.templateName));
    expect(mine.map((d) => [d.name, d.kind, d.environment, d.template, d.project])).toEqual([
      [name, 'clone', 'local', project.template(), true],
      [project.template(), 'template', 'local', project.template(), true],
    ]);
    for (const database of mine) {
      expect(database.sizeBytes).toBeGreaterThan(0);
      expect(Date.parse(database.createdAt ?? '')).not.toBeNaN();
    }
    expect(databases.map((d) => d.name)).not.toContain(foreign.name);
    expect(databases.map((d) => d.name)).not.toContain('postgres');
  });

  it('refuses to drop a database dbfast did not make, and then drops nothing at all', async () => {
    const project = makeProject();
    const foreign = await freshDatabase(local, `${project.templateName}_foreign`);
    const name = `${project.templateName}_c_keep`;
    await seed({ config: project.config(), output: name });
    const error = await drop({ config: project.config(), names: [name, foreign.name] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DbfastError);
    expect(error).toMatchObject({ code: 'NOT_MADE_BY_DBFAST', exitCode: 2 });
    expect((error as DbfastError).message).toContain(foreign.name);
    expect(await exists(foreign.name)).toBe(true);
    expect(await exists(name)).toBe(true);
    const missing = await drop({ config: project.config(), names: [`${project.templateName}_nope`] }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'DATABASE_NOT_FOUND', exitCode: 2 });
    const nothing = await drop({ config: project.config() }).catch((e: unknown) => e);
    expect(nothing).toMatchObject({ code: 'USAGE', exitCode: 2 });
  });

  it('drops named clones and templates', async () => {
    const project = makeProject();
    const name = `${project.templateName}_c_gone`;
    await seed({ config: project.config(), output: name });
    const result = await drop({ config: project.config(), names: [name, project.template()] });
    expect(result.dropped).toEqual([
      { name, kind: 'clone' },
      { name: project.template(), kind: 'template' },
    ]);
    expect(await exists(name)).toBe(false);
    expect(await exists(project.template())).toBe(false);
  });

  it("--all-clones drops this project's clones only: not templates, not other projects' clones, not foreign databases", async () => {
    const project = makeProject();
    const other = makeProject();
    const foreign = await freshDatabase(local, `${project.templateName}_foreign`);
    const mine = [`${project.templateName}_c_1`, `${project.templateName}_c_2`];
    for (const output of mine) await seed({ config: project.config(), output });
    const theirs = `${other.templateName}_c_1`;
    await seed({ config: other.config(), output: theirs });
    const result = await drop({ config: project.config(), allClones: true });
    expect(result.dropped.map((d) => d.name).sort()).toEqual(mine);
    for (const name of mine) expect(await exists(name)).toBe(false);
    expect(await exists(theirs)).toBe(true);
    expect(await exists(project.template())).toBe(true);
    expect(await exists(foreign.name)).toBe(true);
  });
});
