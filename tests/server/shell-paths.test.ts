import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellUnsafe } from '../../src/server/paths.js';
import { parseJson } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { cli } from './support.js';

interface ErrorJson {
  error: { code: string; message: string; hint: string; details: { setting: string } };
}

describe('a managed server folder that /bin/sh would act on', () => {
  it('is refused (SERVER_DIR_UNSAFE, exit 2, naming the setting) before anything runs: a real folder named with $(touch ...)', async () => {
    const witness = `dbfast-pwned-${randomBytes(4).toString('hex')}`;
    // pg_ctl and initdb run from / : `cd tmp` puts the witness in /tmp (a folder name cannot hold a slash).
    const root = path.join(tempDir(), `srv-$(cd tmp;touch ${witness})`);
    mkdirSync(root, { mode: 0o755 });
    chmodSync(path.dirname(root), 0o755);
    try {
      const result = await cli(root, ['--json', 'server', 'start']);
      expect(existsSync(path.join('/tmp', witness))).toBe(false);
      expect(result.exitCode, result.stdout + result.stderr).toBe(2);
      const { error } = parseJson<ErrorJson>(result);
      expect(error).toMatchObject({ code: 'SERVER_DIR_UNSAFE', details: { setting: 'DBFAST_SERVER_DIR' } });
      expect(error.message).toContain('contains the character $');
      expect(error.hint).toContain('Set DBFAST_SERVER_DIR to a folder');
      expect(readdirSync(root)).toEqual([]);
    } finally {
      rmSync(path.join('/tmp', witness), { force: true });
    }
  });

  it('knows every character the shell acts on inside double quotes', () => {
    expect(shellUnsafe('/var/lib/dbfast/server')).toBeUndefined();
    expect(shellUnsafe("/srv/it's fine (really)/x & y; z")).toBeUndefined();
    expect(shellUnsafe('/srv/a`id`')).toBe('the character `');
    expect(shellUnsafe('/srv/a"b')).toBe('the character "');
    expect(shellUnsafe('/srv/a\\b')).toBe('the character \\');
    expect(shellUnsafe('/srv/a\nb')).toBe('a control character');
  });
});
