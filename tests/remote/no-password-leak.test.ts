import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliResult } from '../support/cli.js';
import { query, remote } from '../support/db.js';
import { cli, project, remoteDatabase, scramRole } from '../support/remote.js';

/** Every remote command, with a known password around, in human, --json and --verbose form. */
describe('the password appears in no output of any remote command', () => {
  it('add, list, test (right and wrong password, password in the URL), remove', async () => {
    const role = await scramRole('CREATEDB');
    // Characters that need URL encoding, so both spellings are checked.
    const password = 'Leak:Test/p@ss%w0rd';
    await query(remote.adminUrl, `ALTER ROLE "${role.name}" PASSWORD '${password}'`);
    const encoded = encodeURIComponent(password);
    const db = await remoteDatabase(role.name);
    const home = mkdtempSync(path.join(os.tmpdir(), 'dbfast-home-'));
    const p = project('[environments.local]\n[environments.production]\n');
    const env = { LEAK_PW: password, HOME: home };
    const results: CliResult[] = [];
    const run = async (args: string[], extra: Record<string, string> = {}): Promise<CliResult> => {
      const result = await cli(p.dir, args, { ...env, ...extra });
      results.push(result);
      return result;
    };

    const withPassword = role.urlFor(db).replace(`${role.name}@`, `${role.name}:${encoded}@`);
    expect((await run(['remote', 'add', '--name', 'leaky', '--url', withPassword, '--env', 'local'])).exitCode).toBe(2);
    expect((await run(['--json', 'remote', 'add', '--name', 'leaky', '--url', withPassword, '--env', 'local'])).exitCode).toBe(2);
    expect((await run(['--verbose', 'remote', 'add', '--name', 'leaky', '--url', `${role.urlFor(db)}?password=${encoded}`, '--env', 'local'])).exitCode).toBe(2);

    expect((await run(['remote', 'add', '--name', 'target', '--url', role.urlFor(db), '--env', 'local', '--password-env', 'LEAK_PW'])).exitCode).toBe(0);
    expect((await run(['--json', 'remote', 'add', '--name', 'prod', '--url', role.urlFor(db), '--env', 'production', '--password-env', 'LEAK_PW'])).exitCode).toBe(0);
    expect(p.read()).not.toContain(password);
    expect(p.read()).not.toContain(encoded);

    for (const args of [['remote', 'list'], ['--json', 'remote', 'list'], ['--verbose', 'remote', 'list']]) expect((await run(args)).exitCode).toBe(0);
    for (const args of [['remote', 'test', 'target'], ['--json', 'remote', 'test', 'target'], ['--verbose', 'remote', 'test', 'target']]) {
      expect((await run(args)).exitCode).toBe(0);
    }
    const wrong = 'Wrong:Pass/w0rd%';
    for (const args of [['remote', 'test', 'target'], ['--json', 'remote', 'test', 'target'], ['--verbose', 'remote', 'test', 'target']]) {
      expect((await run(args, { LEAK_PW: wrong })).exitCode).toBe(3);
    }

    // A password someone wrote into the file's URL: used, masked in list, never printed.
    const inline = project(`[environments.local]\n\n[remotes.inline]\nurl = "${withPassword}"\nenvironment = "local"\n`);
    for (const args of [['remote', 'list'], ['--json', 'remote', 'list'], ['remote', 'test', 'inline'], ['--json', '--verbose', 'remote', 'test', 'inline']]) {
      const result = await cli(inline.dir, args, env);
      results.push(result);
      expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    }

    for (const args of [['remote', 'remove', 'target'], ['--json', 'remote', 'remove', 'prod']]) expect((await run(args)).exitCode).toBe(0);

    expect(results.length).toBe(20);
    for (const result of results) {
      for (const secret of [password, encoded, wrong, encodeURIComponent(wrong)]) {
        expect(result.stdout).not.toContain(secret);
        expect(result.stderr).not.toContain(secret);
      }
    }
  });
});
