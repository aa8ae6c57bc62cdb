import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { IS_ROOT, cli, serverDir } from './support.js';

interface ErrorJson {
  error: { code: string; message: string; hint: string; path?: string };
}

function failure(result: CliResult): ErrorJson['error'] {
  expect(result.exitCode, result.stdout + result.stderr).not.toBe(0);
  return parseJson<ErrorJson>(result).error;
}

const mounts: string[] = [];
afterAll(() => {
  for (const mount of mounts.splice(0)) execFileSync('umount', ['-l', mount]);
});

describe('bad input and faults of the managed server: a clear error, nothing of the user\'s deleted', () => {
  it('refuses a server folder that belongs to someone else', async () => {
    if (!IS_ROOT) throw new Error('this test gives a folder to another OS user: run the tests as root (CI does)');
    const root = serverDir();
    const dataDir = path.join(root, '15', 'data');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(dataDir, 'PG_VERSION'), '15\n');
    execFileSync('chown', ['-R', 'nobody', path.join(root, '15')]);
    const result = await cli(root, ['--json', 'server', 'start']);
    expect(result.exitCode).toBe(2);
    expect(failure(result)).toMatchObject({
      code: 'SERVER_DIR_FOREIGN',
      message: expect.stringMatching(new RegExp(`${path.join(root, '15')} belongs to nobody \\(uid \\d+\\), not to the server's user postgres`)),
      hint: expect.stringContaining('chown -R postgres'),
    });
    expect(readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8')).toBe('15\n');
  });

  it('says so when the disk is full at initdb, and leaves nothing half-made', async () => {
    if (!IS_ROOT) throw new Error('this test mounts a small tmpfs: run the tests as root (CI does)');
    const mount = mkdtempSync(path.join(os.tmpdir(), 'dbfast-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=0755', 'tmpfs', mount]);
    mounts.push(mount);
    writeFileSync(path.join(mount, 'keep.txt'), 'mine');
    const result = await cli(mount, ['--json', 'server', 'start']);
    expect(result.exitCode).toBe(1);
    expect(failure(result)).toMatchObject({
      code: 'SERVER_DISK_FULL',
      message: expect.stringContaining(`ran out of disk space in ${path.join(mount, '15')}`),
      hint: expect.stringContaining('DBFAST_SERVER_DIR'),
    });
    expect(readFileSync(path.join(mount, 'keep.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(path.join(mount, '15')).filter((name) => name.startsWith('data'))).toEqual([]);
  });

  it('names binaries that cannot run on this machine', async () => {
    const root = serverDir();
    const bin = tempDir();
    for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
      writeFileSync(path.join(bin, tool), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xff]));
      chmodSync(path.join(bin, tool), 0o755);
    }
    chmodSync(bin, 0o755);
    const result = await cli(root, ['--json', 'server', 'start'], { extraEnv: { DBFAST_SERVER_BINARIES: bin } });
    expect(result.exitCode).toBe(1);
    expect(failure(result)).toMatchObject({
      code: 'SERVER_BINARIES_BROKEN',
      message: expect.stringContaining(`cannot run ${path.join(bin, 'postgres')}`),
      hint: expect.stringContaining('do not run on this machine'),
    });
    expect(readdirSync(root)).toEqual([]);
    const wrong = await cli(root, ['--json', 'server', 'start'], { extraEnv: { DBFAST_SERVER_BINARIES: 'newest' } });
    expect(wrong.exitCode).toBe(2);
    expect(failure(wrong).code).toBe('USAGE');
  });

  it('refuses, as root, a server folder the server\'s user cannot reach', async () => {
    if (!IS_ROOT) throw new Error('this test needs a server user other than the caller: run the tests as root (CI does)');
    const closed = tempDir();
    chmodSync(closed, 0o700);
    const root = path.join(closed, 'server');
    const result = await cli(root, ['--json', 'server', 'start']);
    expect(result.exitCode).toBe(2);
    expect(failure(result)).toMatchObject({
      code: 'SERVER_DIR_UNREACHABLE',
      message: expect.stringContaining(`cannot pass through ${closed} (mode 0700)`),
    });
    expect(existsSync(root)).toBe(false);
  });

  it('refuses an unknown server user, and root', async () => {
    if (!IS_ROOT) throw new Error('DBFAST_SERVER_USER only applies to root: run the tests as root (CI does)');
    const root = serverDir();
    const unknown = await cli(root, ['--json', 'server', 'start'], { extraEnv: { DBFAST_SERVER_USER: 'no_such_user_dbfast' } });
    expect(failure(unknown)).toMatchObject({ code: 'SERVER_USER_MISSING', message: expect.stringContaining('no_such_user_dbfast') });
    const rootUser = await cli(root, ['--json', 'server', 'start'], { extraEnv: { DBFAST_SERVER_USER: 'root' } });
    expect(failure(rootUser)).toMatchObject({ code: 'SERVER_USER_MISSING', message: expect.stringContaining('root (uid 0)') });
    rmSync(root, { recursive: true, force: true });
  });
});
