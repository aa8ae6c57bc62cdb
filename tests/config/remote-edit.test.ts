import { statSync, chmodSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { cli, project } from '../support/remote.js';

/** Hand-written config: comments everywhere, a multi-line array, a multi-line string with a "[...]" line, sub-tables. */
const TABLE_FORM = `# My project's dbfast config
# (hand-written; keep these comments)

[database]
template_name = "shop"   # inline comment

[environments.local]
include_directories = [
  "0_schema",
  # a comment inside an array
  "1_seed",
]

[environments.production]
include_directories = ["0_schema"]
description = """
[remotes.fake]
not a table, a multi-line string
"""

# Staging: the shared test server
[remotes.staging]
url = "postgresql://app@staging.example.com/shop"   # no password here
environment = "local"
# validate = ["select 1"]

[remotes.staging.deploy]
pre = ["echo pre"]

# Production comes last
[remotes.production]
url = "postgresql://app@prod.example.com/shop"
environment = "production"

[backup]
dir = ".dbfast/backups"
`;

const ARRAY_FORM = `# remotes as an array of tables
[environments.local]

[[remotes]]
name = "one"   # first
url = "postgresql://app@one.example.com/shop"
environment = "local"

[remotes.deploy]
pre = ["echo one"]

# the second one
[[remotes]]
name = "two"
url = "postgresql://app@two.example.com/shop"
environment = "local"

[backup]
keep = 3
`;

describe('remote add / remove keep the file as written', () => {
  it('add appends one table after the last remote; remove gives back the original byte for byte', async () => {
    const p = project(TABLE_FORM);
    const added = await cli(p.dir, ['remote', 'add', '--name', 'qa', '--url', 'postgresql://qa@qa.example.com:5432/shop?sslmode=require', '--env', 'local', '--password-env', 'QA_PW', '--allow-destructive']);
    expect(added.exitCode, added.stderr).toBe(0);
    const inserted = '\n[remotes.qa]\nurl = "postgresql://qa@qa.example.com:5432/shop?sslmode=require"\nenvironment = "local"\npassword_env = "QA_PW"\nallow_destructive = true\n';
    const anchor = 'environment = "production"\n';
    expect(p.read()).toBe(TABLE_FORM.replace(anchor, `${anchor}${inserted}`));

    const removed = await cli(p.dir, ['remote', 'remove', 'qa']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(p.read()).toBe(TABLE_FORM);
  });

  it('remove takes the table, its sub-tables and its heading comment, nothing else', async () => {
    const p = project(TABLE_FORM);
    const result = await cli(p.dir, ['remote', 'remove', 'staging']);
    expect(result.exitCode, result.stderr).toBe(0);
    const staging = `# Staging: the shared test server
[remotes.staging]
url = "postgresql://app@staging.example.com/shop"   # no password here
environment = "local"
# validate = ["select 1"]

[remotes.staging.deploy]
pre = ["echo pre"]

`;
    expect(p.read()).toBe(TABLE_FORM.replace(staging, ''));
    const list = parseJson<{ remotes: Array<{ name: string }> }>(await cli(p.dir, ['--json', 'remote', 'list']));
    expect(list.remotes.map((r) => r.name)).toEqual(['production']);
  });

  it('remove of the last table leaves the following tables and their comments alone', async () => {
    const p = project(TABLE_FORM);
    expect((await cli(p.dir, ['remote', 'remove', 'production'])).exitCode).toBe(0);
    const production = `# Production comes last
[remotes.production]
url = "postgresql://app@prod.example.com/shop"
environment = "production"

`;
    expect(p.read()).toBe(TABLE_FORM.replace(production, ''));
  });

  it('array form: add appends a [[remotes]] entry, remove takes exactly that entry and its sub-table', async () => {
    const p = project(ARRAY_FORM);
    const added = await cli(p.dir, ['remote', 'add', '--name', 'three', '--url', 'postgresql://app@three.example.com/shop', '--env', 'local', '--no-backup', '--require-confirmation']);
    expect(added.exitCode, added.stderr).toBe(0);
    const entry = '\n[[remotes]]\nname = "three"\nurl = "postgresql://app@three.example.com/shop"\nenvironment = "local"\nbackup_before_deploy = false\nrequire_confirmation = true\n';
    const anchor = 'url = "postgresql://app@two.example.com/shop"\nenvironment = "local"\n';
    expect(p.read()).toBe(ARRAY_FORM.replace(anchor, `${anchor}${entry}`));

    const list = parseJson<{ remotes: Array<Record<string, unknown>> }>(await cli(p.dir, ['--json', 'remote', 'list']));
    expect(list.remotes.map((r) => r.name)).toEqual(['one', 'two', 'three']);
    expect(list.remotes[2]).toEqual({
      name: 'three',
      url: 'postgresql://app@three.example.com/shop',
      environment: 'local',
      allowDestructive: false,
      backupBeforeDeploy: false,
      requireConfirmation: true,
      passwordEnv: null,
    });

    expect((await cli(p.dir, ['remote', 'remove', 'three'])).exitCode).toBe(0);
    expect(p.read()).toBe(ARRAY_FORM);

    expect((await cli(p.dir, ['remote', 'remove', 'one'])).exitCode).toBe(0);
    const one = `[[remotes]]
name = "one"   # first
url = "postgresql://app@one.example.com/shop"
environment = "local"

[remotes.deploy]
pre = ["echo one"]

`;
    expect(p.read()).toBe(ARRAY_FORM.replace(one, ''));
    const after = parseJson<{ remotes: Array<{ name: string }> }>(await cli(p.dir, ['--json', 'remote', 'list']));
    expect(after.remotes.map((r) => r.name)).toEqual(['two']);
  });

  it('a file without remotes gets the table at the end; CRLF files stay CRLF; the file mode is kept', async () => {
    const original = '# crlf file\r\n[environments.local]\r\ninclude_directories = ["0_schema"]\r\n';
    const p = project(original);
    chmodSync(p.file, 0o640);
    const added = await cli(p.dir, ['remote', 'add', '--name', 'staging', '--url', 'postgresql://app@h/db', '--env', 'local']);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(p.read()).toBe(`${original}\r\n[remotes.staging]\r\nurl = "postgresql://app@h/db"\r\nenvironment = "local"\r\n`);
    expect(statSync(p.file).mode & 0o777).toBe(0o640);
    expect((await cli(p.dir, ['remote', 'remove', 'staging'])).exitCode).toBe(0);
    expect(p.read()).toBe(original);
    // .dbfast/ holds the loader's cache; no temporary file is left beside dbfast.toml.
    expect(readdirSync(p.dir).filter((name) => name !== '.dbfast')).toEqual(['dbfast.toml']);
  });

  it('list shows a table with masked passwords; --json has the documented fields', async () => {
    const p = project(`[environments.local]\n\n[remotes.legacy]\nurl = "postgresql://app:hunter2secret@legacy.example.com/shop"\nenvironment = "local"\n`);
    const human = await cli(p.dir, ['remote', 'list']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/^NAME\s+ENVIRONMENT\s+URL/);
    expect(human.stdout).toContain('postgresql://app:***@legacy.example.com/shop');
    const json = parseJson<{ remotes: Array<Record<string, unknown>> }>(await cli(p.dir, ['--json', 'remote', 'list']));
    expect(json.remotes[0]?.url).toBe('postgresql://app:***@legacy.example.com/shop');
    for (const out of [human.stdout, human.stderr, JSON.stringify(json)]) expect(out).not.toContain('hunter2secret');
  });
});

describe('remote add refuses, and leaves the file untouched', () => {
  const cases: Array<{ what: string; args: string[]; code: string; message: RegExp; hint?: RegExp }> = [
    { what: 'a duplicate name', args: ['--name', 'staging', '--url', 'postgresql://a@h/db', '--env', 'local'], code: 'REMOTE_EXISTS', message: /already exists/ },
    { what: 'an unknown environment', args: ['--name', 'x', '--url', 'postgresql://a@h/db', '--env', 'nowhere'], code: 'ENVIRONMENT_UNKNOWN', message: /unknown environment "nowhere" \(defined: local, production\)/ },
    {
      what: 'a password inside --url',
      args: ['--name', 'x', '--url', 'postgresql://app:s3cr3t-in-url@h/db', '--env', 'local'],
      code: 'REMOTE_URL_PASSWORD',
      message: /contains a password/,
      hint: /--password-env/,
    },
    { what: 'a password query parameter', args: ['--name', 'x', '--url', 'postgresql://app@h/db?password=s3cr3t-in-url', '--env', 'local'], code: 'REMOTE_URL_PASSWORD', message: /contains a password/ },
    { what: 'an invalid name', args: ['--name', 'bad name]', '--url', 'postgresql://a@h/db', '--env', 'local'], code: 'REMOTE_NAME_INVALID', message: /not a valid remote name/ },
    { what: 'a name starting with a digit', args: ['--name', '1st', '--url', 'postgresql://a@h/db', '--env', 'local'], code: 'REMOTE_NAME_INVALID', message: /not a valid remote name/ },
    { what: 'a URL that is not postgresql://', args: ['--name', 'x', '--url', 'mysql://a@h/db', '--env', 'local'], code: 'REMOTE_URL_INVALID', message: /not a postgresql:\/\/ URL/ },
    { what: '--no-backup for a production remote', args: ['--name', 'prod2', '--url', 'postgresql://a@h/db', '--env', 'production', '--no-backup'], code: 'PRODUCTION_NEEDS_BACKUP', message: /always backed up/ },
    { what: '--no-backup for a remote named production', args: ['--name', 'production', '--url', 'postgresql://a@h/db', '--env', 'production', '--no-backup'], code: 'PRODUCTION_NEEDS_BACKUP', message: /always backed up/ },
    { what: 'a password as --password-env', args: ['--name', 'x', '--url', 'postgresql://a@h/db', '--env', 'local', '--password-env', 's3cr3t-in-url!'], code: 'PASSWORD_ENV_INVALID', message: /takes the name of an environment variable/ },
  ];
  const base = `[environments.local]\n[environments.production]\n\n[remotes.staging]\nurl = "postgresql://app@h/db"\nenvironment = "local"\n`;

  for (const c of cases) {
    it(`refuses ${c.what} (exit 2)`, async () => {
      const p = project(base);
      const human = await cli(p.dir, ['remote', 'add', ...c.args]);
      expect(human.exitCode).toBe(2);
      expect(human.stderr).toMatch(c.message);
      expect(human.stderr).toMatch(/hint: /);
      if (c.hint) expect(human.stderr).toMatch(c.hint);
      const json = await cli(p.dir, ['--json', 'remote', 'add', ...c.args]);
      expect(json.exitCode).toBe(2);
      expect(parseJson<{ error: { code: string } }>(json).error.code).toBe(c.code);
      expect(p.read()).toBe(base);
      for (const out of [human.stdout, human.stderr, json.stdout, json.stderr]) expect(out).not.toContain('s3cr3t-in-url');
    });
  }

  it('refuses to remove an unknown remote (exit 2)', async () => {
    const p = project(base);
    const result = await cli(p.dir, ['remote', 'remove', 'nope']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/no remote named "nope".*\nhint: Known remotes: staging/);
    expect(p.read()).toBe(base);
  });

  it('refuses to edit a remote written inline, and leaves the file alone', async () => {
    const inline = `[environments.local]\n\n[remotes]\nstaging = { url = "postgresql://a@h/db", environment = "local" }\n`;
    const p = project(inline);
    const removed = await cli(p.dir, ['remote', 'remove', 'staging']);
    expect(removed.exitCode).toBe(2);
    expect(removed.stderr).toMatch(/not written as its own \[remotes\.staging\] table/);
    const inlineRoot = `remotes = { a = { url = "postgresql://a@h/db", environment = "local" } }\n[environments.local]\n`;
    const q = project(inlineRoot);
    const added = await cli(q.dir, ['remote', 'add', '--name', 'b', '--url', 'postgresql://a@h/db', '--env', 'local']);
    expect(added.exitCode).toBe(2);
    expect(added.stderr).toMatch(/would not load, so it was left unchanged/);
    expect(p.read()).toBe(inline);
    expect(q.read()).toBe(inlineRoot);
    expect(readdirSync(q.dir).filter((name) => name !== '.dbfast')).toEqual(['dbfast.toml']);
  });
});
