import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { comparePaths, compareNatural } from '../../src/project/natural.js';
import { scanRepository } from '../../src/project/scan.js';
import { sha256, sha256File } from '../../src/project/hash.js';
import { tempDir, writeTree } from '../support/files.js';

async function scannedPaths(files: Record<string, string>): Promise<string[]> {
  const root = writeTree(tempDir(), files);
  return (await scanRepository(root)).map((file) => file.relativePath);
}

describe('natural order', () => {
  it('puts 2_x before 10_x, at every level of the path', async () => {
    expect(
      await scannedPaths({
        '10_late/1.sql': '',
        '2_early/10_b.sql': '',
        '2_early/9_a.sql': '',
        '1_first/a.sql': '',
      }),
    ).toEqual(['1_first/a.sql', '2_early/9_a.sql', '2_early/10_b.sql', '10_late/1.sql']);
  });

  it('orders numbers by value whatever their leading zeros', () => {
    expect(['010_c.sql', '2_b.sql', '001_a.sql', '0010_d.sql'].sort(compareNatural)).toEqual(['001_a.sql', '2_b.sql', '010_c.sql', '0010_d.sql']);
    // Equal values keep a fixed order (by code unit), so the result never depends on input order.
    expect(['01_x.sql', '1_x.sql'].sort(compareNatural)).toEqual(['01_x.sql', '1_x.sql']);
    expect(['1_x.sql', '01_x.sql'].sort(compareNatural)).toEqual(['01_x.sql', '1_x.sql']);
  });

  it('compares text by code unit, not locale: upper case before lower case, same on every machine', () => {
    expect(['b.sql', 'B.sql', 'a.sql', 'A.sql', '_z.sql'].sort(compareNatural)).toEqual(['A.sql', 'B.sql', '_z.sql', 'a.sql', 'b.sql']);
  });

  it('keeps a folder together and puts numbered names before words', () => {
    expect(['a/2.sql', 'a.sql', 'a/10.sql', '1_b/x.sql'].sort(comparePaths)).toEqual(['1_b/x.sql', 'a/2.sql', 'a/10.sql', 'a.sql']);
  });
});

describe('scanRepository', () => {
  it('walks nested folders and returns sizes and absolute paths', async () => {
    const root = writeTree(tempDir(), { '0_schema/tables/01_users.sql': 'create table u();', '0_schema/00_init.sql': 'select 1;' });
    const files = await scanRepository(root);
    expect(files.map((file) => file.relativePath)).toEqual(['0_schema/00_init.sql', '0_schema/tables/01_users.sql']);
    expect(files[1]).toMatchObject({ absolutePath: path.join(root, '0_schema/tables/01_users.sql'), size: 17 });
  });

  it('takes .sql in any case and ignores every other file', async () => {
    expect(await scannedPaths({ 'a/1.sql': '', 'a/2.SQL': '', 'a/3.sql.bak': '', 'a/README.md': '', 'a/4.psql': '', 'a/5.txt': '' })).toEqual([
      'a/1.sql',
      'a/2.SQL',
    ]);
  });

  it('skips hidden files and folders, node_modules and .dbfast', async () => {
    expect(
      await scannedPaths({
        '0_schema/a.sql': '',
        '0_schema/.hidden.sql': '',
        '.git/x.sql': '',
        '.cache/y.sql': '',
        'node_modules/pkg/z.sql': '',
        '.dbfast/backups/b.sql': '',
        'sub/node_modules/q.sql': '',
      }),
    ).toEqual(['0_schema/a.sql']);
  });

  it('follows a symlinked folder or file inside the repository, under the link\'s own path', async () => {
    const root = writeTree(tempDir(), { '0_schema/a.sql': '', 'shared/s.sql': '' });
    symlinkSync(path.join(root, 'shared'), path.join(root, '1_linked'));
    symlinkSync('../shared/s.sql', path.join(root, '0_schema/b.sql'));
    expect((await scanRepository(root)).map((file) => file.relativePath)).toEqual(['0_schema/a.sql', '0_schema/b.sql', '1_linked/s.sql', 'shared/s.sql']);
  });

  it('refuses a link that leaves the repository, naming the link and where it points', async () => {
    const outside = writeTree(tempDir(), { 'linked.sql': '' });
    const root = writeTree(tempDir(), { '0_schema/a.sql': '' });
    symlinkSync(outside, path.join(root, '1_shared'));
    const error = await scanRepository(root).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'REPOSITORY_LINK_OUTSIDE', exitCode: 2 });
    expect((error as Error).message).toContain('1_shared');
    expect((error as Error).message).toContain(outside);
    const file = writeTree(tempDir(), { 'elsewhere.sql': '' });
    const other = writeTree(tempDir(), { '0_schema/a.sql': '' });
    symlinkSync(path.join(file, 'elsewhere.sql'), path.join(other, '0_schema/b.sql'));
    await expect(scanRepository(other)).rejects.toMatchObject({ code: 'REPOSITORY_LINK_OUTSIDE' });
  });

  it('refuses a link to / at once instead of walking the whole file system', async () => {
    const root = writeTree(tempDir(), { '0_schema/a.sql': '' });
    symlinkSync('/', path.join(root, '0_schema/everything'));
    await expect(scanRepository(root)).rejects.toMatchObject({ code: 'REPOSITORY_LINK_OUTSIDE', exitCode: 2 });
  });

  it('refuses a symlink loop instead of following it dozens of levels deep', async () => {
    for (const target of ['..', '.']) {
      const root = writeTree(tempDir(), { '0_schema/a.sql': '' });
      symlinkSync(target, path.join(root, '0_schema/loop'));
      const error = await scanRepository(root).catch((e: unknown) => e);
      expect(error, target).toMatchObject({ code: 'REPOSITORY_LINK_LOOP', exitCode: 2 });
      expect((error as Error).message).toContain('0_schema/loop');
    }
    // Two links pointing at each other: the operating system's own loop.
    const root = writeTree(tempDir(), { '0_schema/a.sql': '' });
    symlinkSync('b', path.join(root, '0_schema/a'));
    symlinkSync('a', path.join(root, '0_schema/b'));
    await expect(scanRepository(root)).rejects.toMatchObject({ code: 'REPOSITORY_LINK_LOOP' });
  });

  it('follows a repository path that is itself a link', async () => {
    const real = writeTree(tempDir(), { '0_schema/a.sql': '' });
    const parent = tempDir();
    symlinkSync(real, path.join(parent, 'db'));
    expect((await scanRepository(path.join(parent, 'db'))).map((file) => file.absolutePath)).toEqual([path.join(parent, 'db', '0_schema/a.sql')]);
  });

  it('is deterministic: the same order whatever order the files were created in', async () => {
    const names = ['10_z/b.sql', '2_y/a.sql', '2_y/B.sql', '1_x/003.sql', '1_x/02.sql', '1_x/1.sql', 'root.sql'];
    const forward = await scannedPaths(Object.fromEntries(names.map((name) => [name, ''])));
    const backward = await scannedPaths(Object.fromEntries([...names].reverse().map((name) => [name, ''])));
    expect(forward).toEqual(backward);
    expect(forward).toEqual(['1_x/1.sql', '1_x/02.sql', '1_x/003.sql', '2_y/B.sql', '2_y/a.sql', '10_z/b.sql', 'root.sql']);
  });

  it('returns nothing for an empty folder and fails with exit 2 for a missing one', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'empty'));
    expect(await scanRepository(path.join(root, 'empty'))).toEqual([]);
    await expect(scanRepository(path.join(root, 'missing'))).rejects.toMatchObject({ code: 'REPOSITORY_NOT_FOUND', exitCode: 2 });
  });

  it('hashes content with sha256', async () => {
    const root = writeTree(tempDir(), { 'a.sql': 'select 1;\n' });
    expect(await sha256File(path.join(root, 'a.sql'))).toBe(sha256('select 1;\n'));
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
