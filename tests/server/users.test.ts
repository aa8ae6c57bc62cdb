import { execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServerStatus, ServerUrl } from '../../src/index.js';
import { CLI, PROJECT_ROOT, outputOf, parseJson, type CliResult } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { IS_ROOT, cliJson, databaseNames, postmasterPid, processUser, stopAllIn, writeManagedProject } from './support.js';

/** Runs the CLI as another OS user (root only), with exactly `env` plus PATH. */
function runCliAs(user: string, args: string[], env: Record<string, string>, cwd: string = PROJECT_ROOT): Promise<CliResult> {
  return outputOf(
    spawn('runuser', ['-p', '-u', user, '--', process.execPath, CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

describe('root and non-root', () => {
  it('as a non-root user: the server runs as that user, under $XDG_DATA_HOME or ~/.local/share, in folders only it can enter', async () => {
    if (!IS_ROOT) throw new Error('this test switches to the OS user nobody: run the tests as root (CI does)');
    const home = tempDir('dbfast-home-');
    execFileSync('chown', ['nobody', home]);
    const project = writeManagedProject(tempDir('dbfast-proj-'));
    execFileSync('chmod', ['-R', 'a+rX', project]);
    execFileSync('chmod', ['a+rx', path.dirname(project)]);
    const env = { HOME: home };
    const root = path.join(home, '.local', 'share', 'dbfast', 'server');
    try {
      const seeded = await runCliAs('nobody', ['--json', 'seed', '--output', 'as_nobody'], env, project);
      expect(seeded.exitCode, seeded.stdout + seeded.stderr).toBe(0);
      const status = parseJson<ServerStatus>(await runCliAs('nobody', ['--json', 'server', 'status'], env));
      expect(status).toMatchObject({ root, rootSource: 'home', running: true });
      expect(status.server?.osUser).toBe('nobody');
      const pid = postmasterPid(path.join(root, '15', 'data')) as { pid: number };
      expect(processUser(pid.pid)).toBe('nobody');
      expect(statSync(root).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(root, '15', 'data')).uid).toBe(Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })));
      const url = parseJson<ServerUrl>(await runCliAs('nobody', ['--json', 'server', 'url'], env));
      expect(await databaseNames(url.url)).toContain('as_nobody');

      const xdg = path.join(home, 'xdg');
      const viaXdg = parseJson<ServerStatus>(await runCliAs('nobody', ['--json', 'server', 'status'], { ...env, XDG_DATA_HOME: xdg }));
      expect(viaXdg).toMatchObject({ root: path.join(xdg, 'dbfast', 'server'), rootSource: 'XDG_DATA_HOME', exists: false });
    } finally {
      await stopAllIn(root);
    }
  });

  it('as root: the server lives in /var/lib/dbfast/server unless DBFAST_SERVER_DIR says otherwise, and runs as postgres', async () => {
    if (!IS_ROOT) throw new Error('this test is about root: run the tests as root (CI does)');
    // status reads only: it creates nothing in /var/lib.
    const status = await cliJson<ServerStatus>('', ['server', 'status'], { extraEnv: { DBFAST_SERVER_DIR: undefined, HOME: tempDir() } });
    expect(status).toMatchObject({ root: '/var/lib/dbfast/server', rootSource: 'root default' });
    // The rest of the root case (postgres as the server's user, its folders) is in lifecycle.test.ts.
  });
});
