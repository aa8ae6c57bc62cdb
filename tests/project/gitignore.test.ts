import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initProject } from '../../src/api/project.js';
import { tempDir, writeTree } from '../support/files.js';

const SQL = { '0_schema/010_tables.sql': 'create table t (id int);', '1_seed/010_rows.sql': 'insert into t values (1);' };

function gitIgnores(dir: string, relative: string): boolean {
  try {
    execFileSync('git', ['-C', dir, 'check-ignore', '-q', '--', relative]);
    return true;
  } catch {
    return false;
  }
}

describe('dbfast init keeps .dbfast/ (local backups) out of git', () => {
  it('creates .gitignore when missing; git then ignores the backup folder', async () => {
    const dir = writeTree(tempDir('gi-new-'), SQL);
    execFileSync('git', ['init', '-q', dir]);
    expect(gitIgnores(dir, '.dbfast/backups/production')).toBe(false);
    const result = await initProject({ cwd: dir });
    expect(result.gitignore).toEqual({ path: path.join(dir, '.gitignore'), action: 'created' });
    expect(readFileSync(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\.dbfast\/$/m);
    expect(gitIgnores(dir, '.dbfast/backups/production')).toBe(true);
  });

  it('appends to an existing .gitignore (keeping it), and leaves one that already ignores .dbfast', async () => {
    const dir = writeTree(tempDir('gi-old-'), { ...SQL, '.gitignore': 'node_modules\n*.log' });
    const result = await initProject({ cwd: dir });
    expect(result.gitignore.action).toBe('added');
    const text = readFileSync(path.join(dir, '.gitignore'), 'utf8');
    expect(text.startsWith('node_modules\n*.log\n')).toBe(true);
    expect(text).toMatch(/^\.dbfast\/$/m);

    const present = writeTree(tempDir('gi-has-'), { ...SQL, '.gitignore': '/.dbfast\n' });
    expect((await initProject({ cwd: present })).gitignore.action).toBe('present');
    expect(readFileSync(path.join(present, '.gitignore'), 'utf8')).toBe('/.dbfast\n');
    writeFileSync(path.join(present, 'dbfast.toml'), '');
    expect((await initProject({ cwd: present, force: true })).gitignore.action).toBe('present');
  });
});
