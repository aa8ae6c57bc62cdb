import { readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTemplate } from '../../src/local/build.js';
import { cacheFilePath } from '../../src/project/hashcache.js';
import { status } from '../../src/local/status.js';
import { scanRepository } from '../../src/project/scan.js';
import { makeProject, SCHEMA_SQL, type TestProject } from '../support/project.js';

async function localStatus(project: TestProject) {
  const result = await status({ config: project.config(), environment: 'local' });
  expect(result.environments).toHaveLength(1);
  return result.environments[0];
}

/** An hour ago, in whole seconds: utimes sets exactly that, so tests can reproduce an mtime. */
const AN_HOUR_AGO = Math.floor(Date.now() / 1000) - 3600;

/** Sets every file's mtime an hour back, so the hash cache trusts its entries at once. */
async function ageFiles(project: TestProject): Promise<void> {
  for (const file of await scanRepository(path.join(project.dir, 'db'))) utimesSync(file.absolutePath, AN_HOUR_AGO, AN_HOUR_AGO);
}

describe('status and change detection', () => {
  it('reports missing, then fresh after a build', async () => {
    const project = makeProject();
    expect(await localStatus(project)).toMatchObject({ state: 'missing', template: project.template(), fileCount: 2, builtAt: null });
    await buildTemplate({ config: project.config() });
    const fresh = await localStatus(project);
    expect(fresh).toMatchObject({ state: 'fresh', added: [], removed: [], modified: [], filterChanged: false });
    expect(fresh?.builtAt).not.toBeNull();
  });

  it('sees an added, a modified and a removed file, and fresh again once they are back', async () => {
    const project = makeProject({ files: { '0_schema/010_item.sql': SCHEMA_SQL, '1_seed/010_a.sql': 'SELECT 1;\n', '1_seed/020_b.sql': 'SELECT 2;\n' } });
    await buildTemplate({ config: project.config() });
    project.write('1_seed/030_new.sql', 'SELECT 3;\n');
    expect(await localStatus(project)).toMatchObject({ state: 'stale', added: ['1_seed/030_new.sql'], modified: [], removed: [] });
    project.remove('1_seed/030_new.sql');
    project.write('1_seed/010_a.sql', 'SELECT 9;\n');
    expect(await localStatus(project)).toMatchObject({ state: 'stale', added: [], modified: ['1_seed/010_a.sql'], removed: [] });
    project.write('1_seed/010_a.sql', 'SELECT 1;\n');
    project.remove('1_seed/020_b.sql');
    expect(await localStatus(project)).toMatchObject({ state: 'stale', added: [], modified: [], removed: ['1_seed/020_b.sql'] });
    project.write('1_seed/020_b.sql', 'SELECT 2;\n');
    // Decided on content: the same bytes with new mtimes are fresh.
    expect(await localStatus(project)).toMatchObject({ state: 'fresh' });
  });

  it("sees a change to the environment's filter", async () => {
    const project = makeProject({ environments: '[environments.local]\ninclude_directories = ["0_schema", "1_seed"]\n' });
    await buildTemplate({ config: project.config() });
    project.writeConfig('[environments.local]\ninclude_directories = ["0_schema"]\n');
    expect(await localStatus(project)).toMatchObject({ state: 'stale', removed: ['1_seed/010_items.sql'], filterChanged: true });
    // Same files, different filter wording: still stale, because the filter is part of the template.
    project.writeConfig('[environments.local]\ninclude_directories = ["0_schema", "1_seed"]\nexclude_files = ["**/nothing.sql"]\n');
    expect(await localStatus(project)).toMatchObject({ state: 'stale', added: [], removed: [], modified: [], filterChanged: true });
    // Unrelated keys do not count.
    project.writeConfig('[environments.local]\ninclude_directories = ["0_schema", "1_seed"]\ndescription = "dev"\n');
    expect(await localStatus(project)).toMatchObject({ state: 'fresh', filterChanged: false });
  });

  it('reports every environment with one call', async () => {
    const project = makeProject({ environments: '[environments.local]\n[environments.test]\ninclude_directories = ["0_schema"]\n' });
    await buildTemplate({ config: project.config(), environment: 'test' });
    const result = await status({ config: project.config() });
    expect(result.upToDate).toBe(false);
    expect(result.environments.map((e) => [e.environment, e.state, e.fileCount])).toEqual([
      ['local', 'missing', 2],
      ['test', 'fresh', 1],
    ]);
  });

  it('reports a production guard violation per environment instead of failing the whole status', async () => {
    const project = makeProject({ environments: '[environments.local]\n[environments.production]\n' });
    const result = await status({ config: project.config() });
    expect(result.upToDate).toBe(false);
    const production = result.environments.find((e) => e.environment === 'production');
    expect(production?.problem).toContain('1_seed/010_items.sql');
    expect(result.environments.find((e) => e.environment === 'local')?.problem).toBeNull();
  });

  it('uses the stat cache: an unchanged file is not read again', async () => {
    const project = makeProject();
    await ageFiles(project);
    await buildTemplate({ config: project.config() });
    const config = project.config();
    const cacheFile = cacheFilePath(config.rootDir, config.repository.path);
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, { sha256: string }> };
    expect(Object.keys(cache.entries).sort()).toEqual(['0_schema/010_item.sql', '1_seed/010_items.sql']);
    // Poison one cached hash: if status trusts the cache (it should: size, mtime and inode match),
    // it reports the file as modified without reading it.
    (cache.entries['1_seed/010_items.sql'] as { sha256: string }).sha256 = '0'.repeat(64);
    writeFileSync(cacheFile, JSON.stringify(cache));
    expect(await localStatus(project)).toMatchObject({ state: 'stale', modified: ['1_seed/010_items.sql'] });
    // A new mtime makes it read the file again, and its real hash matches the template.
    const now = new Date();
    utimesSync(path.join(project.dir, 'db', '1_seed/010_items.sql'), now, now);
    expect(await localStatus(project)).toMatchObject({ state: 'fresh' });
  });

  it('re-reads a file whose size and mtime match but whose inode changed (replaced by another file)', async () => {
    const project = makeProject();
    await ageFiles(project);
    await buildTemplate({ config: project.config() });
    const file = path.join(project.dir, 'db', '1_seed/010_items.sql');
    const same = readFileSync(file, 'utf8').replace('kettle', 'kettlf');
    const stat = (await scanRepository(path.join(project.dir, 'db'))).find((f) => f.relativePath === '1_seed/010_items.sql');
    // Saved the way editors save: a new file renamed over the old one. Both exist at once, so the
    // new one cannot reuse the old one's inode (deleting first and writing again could, on a busy
    // machine, get it back).
    const replacement = `${file}.new`;
    writeFileSync(replacement, same);
    utimesSync(replacement, AN_HOUR_AGO, AN_HOUR_AGO);
    renameSync(replacement, file);
    const after = (await scanRepository(path.join(project.dir, 'db'))).find((f) => f.relativePath === '1_seed/010_items.sql');
    expect(after?.size).toBe(stat?.size);
    expect(after?.mtimeMs).toBe(stat?.mtimeMs);
    expect(after?.ino).not.toBe(stat?.ino);
    expect(await localStatus(project)).toMatchObject({ state: 'stale', modified: ['1_seed/010_items.sql'], added: [], removed: [] });
  });
});
