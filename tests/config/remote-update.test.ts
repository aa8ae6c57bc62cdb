import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { cli, project, remoteDatabase, scramRole } from '../support/remote.js';

/** Hand-written config: comments everywhere, a multi-line string with `url = ` inside, sub-tables, CRLF-free. */
const TABLE_FORM = `# My project's dbfast config
# (hand-written; keep these comments)

[environments.local]
[environments.production]

# Staging: the shared test server
[remotes.staging]
url = "postgresql://app@staging.example.com/shop"   # no password here
environment = "local"
description = """
url = "postgresql://not-this@example.com/x"
"""
# validate = ["select 1"]

[remotes.staging.deploy]
pre = ["echo pre"]

# Production comes last
[remotes.production]
url = "postgresql://app@prod.example.com/shop"
environment = "production"
`;

const ARRAY_FORM = `[environments.local]

[[remotes]]
name = "one"   # first
url = "postgresql://app@one.example.com/shop"
environment = "local"

# the second one
[[remotes]]
name = "two"
url = "postgresql://app@two.example.com/shop"
environment = "local"
no_owner = true`;

describe('remote update edits only the changed keys of that remote', () => {
  it('replaces values in place (trailing comments kept), adds missing keys after the last key, touches nothing else', async () => {
    const p = project(TABLE_FORM);
    const result = await cli(p.dir, ['--json', 'remote', 'update', 'staging', '--url', 'postgresql://app@staging2.example.com:6432/shop?sslmode=require', '--no-owner', '--password-env', 'STAGING_PW', '--allow-destructive']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(parseJson<{ changed: string[] }>(result).changed).toEqual(['url', 'password_env', 'allow_destructive', 'no_owner']);
    const expected = TABLE_FORM.replace(
      'url = "postgresql://app@staging.example.com/shop"   # no password here\n',
      'url = "postgresql://app@staging2.example.com:6432/shop?sslmode=require"   # no password here\n',
    ).replace('"""\n# validate', '"""\npassword_env = "STAGING_PW"\nallow_destructive = true\nno_owner = true\n# validate');
    expect(p.read()).toBe(expected);

    // A second update changes the lines it wrote, in place.
    const again = await cli(p.dir, ['remote', 'update', '--name', 'staging', '--owner', '--env', 'production']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('updated remote staging');
    expect(p.read()).toBe(expected.replace('environment = "local"\ndescription', 'environment = "production"\ndescription').replace('no_owner = true', 'no_owner = false'));
    const listed = parseJson<{ remotes: Array<{ name: string; environment: string; requireConfirmation: boolean }> }>(await cli(p.dir, ['--json', 'remote', 'list']));
    expect(listed.remotes.find((r) => r.name === 'staging')).toMatchObject({ environment: 'production', requireConfirmation: true });
  });

  it('works on [[remotes]] entries, and on a last line without its newline', async () => {
    const p = project(ARRAY_FORM);
    const result = await cli(p.dir, ['remote', 'update', 'two', '--owner', '--keep-previous', '--require-confirmation']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(p.read()).toBe(`${ARRAY_FORM.replace('no_owner = true', 'no_owner = false')}\nrequire_confirmation = true\nkeep_previous = true\n`);
    const one = await cli(p.dir, ['remote', 'update', 'one', '--url', 'postgresql://app@uno.example.com/shop']);
    expect(one.exitCode, one.stderr).toBe(0);
    expect(p.read()).toContain('name = "one"   # first\nurl = "postgresql://app@uno.example.com/shop"\nenvironment = "local"\n\n# the second one');
  });

  it('refuses what remote add refuses, and leaves the file unchanged', async () => {
    const p = project(TABLE_FORM);
    const cases: Array<[string[], string]> = [
      [['--url', 'postgresql://app:s3cret@staging.example.com/shop'], 'REMOTE_URL_PASSWORD'],
      [['--url', 'postgresql://app@h/shop?password=s3cret'], 'REMOTE_URL_PASSWORD'],
      [['--url', 'mysql://app@h/shop'], 'REMOTE_URL_INVALID'],
      [['--env', 'nowhere'], 'ENVIRONMENT_UNKNOWN'],
      [['--url', `postgresql://app@h/${'s'.repeat(48)}`], 'NAME_TOO_LONG'],
      [['--password-env', 'not a name'], 'PASSWORD_ENV_INVALID'],
      [[], 'USAGE'],
    ];
    for (const [flags, code] of cases) {
      const result = await cli(p.dir, ['--json', 'remote', 'update', 'staging', ...flags]);
      expect(result.exitCode, flags.join(' ')).toBe(2);
      expect(parseJson<{ error: { code: string } }>(result).error.code, flags.join(' ')).toBe(code);
      expect(result.stdout + result.stderr).not.toContain('s3cret');
      expect(p.read()).toBe(TABLE_FORM);
    }
    const production = await cli(p.dir, ['--json', 'remote', 'update', 'production', '--no-backup']);
    expect(parseJson<{ error: { code: string } }>(production).error.code).toBe('PRODUCTION_NEEDS_BACKUP');
    const unknown = await cli(p.dir, ['--json', 'remote', 'update', 'qa', '--no-owner']);
    expect(parseJson<{ error: { code: string } }>(unknown).error.code).toBe('REMOTE_UNKNOWN');
    expect(p.read()).toBe(TABLE_FORM);
  });

  it('the updated remote is the one commands use: remote test reaches the new URL with the new password variable', async () => {
    const role = await scramRole();
    const database = await remoteDatabase(role.name);
    const p = project(`[environments.local]\n\n[remotes.staging]\nurl = "postgresql://nobody@127.0.0.1:1/none"\nenvironment = "local"\n`);
    const updated = await cli(p.dir, ['remote', 'update', 'staging', '--url', role.urlFor(database), '--password-env', 'UPDATED_PW']);
    expect(updated.exitCode, updated.stderr).toBe(0);
    const tested = await cli(p.dir, ['--json', 'remote', 'test', 'staging'], { UPDATED_PW: role.password });
    const report = parseJson<{ database: string; currentUser: string }>(tested);
    expect(report).toMatchObject({ database, currentUser: role.name });
    expect(p.read()).not.toContain(role.password);
  });
});
