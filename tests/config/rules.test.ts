import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { DbfastError } from '../../src/errors.js';
import { freePort } from '../support/cluster.js';
import { parseJson } from '../support/cli.js';
import { tempDir, writeTree } from '../support/files.js';
import { cli, project } from '../support/remote.js';

function loadError(text: string, env: NodeJS.ProcessEnv = {}): DbfastError {
  try {
    loadConfig({ cwd: writeTree(tempDir(), { 'dbfast.toml': text }), env });
  } catch (error) {
    expect(error).toBeInstanceOf(DbfastError);
    return error as DbfastError;
  }
  throw new Error('expected loadConfig to fail');
}

interface ErrorJson {
  error: { code: string; message: string; hint: string };
}

// Issue 9 item 7: names from the config become database names, folder names and file names.
describe('every name that becomes a path is checked at load, with its key named', () => {
  const cases: Array<{ what: string; toml: string; env?: NodeJS.ProcessEnv; message: RegExp }> = [
    { what: 'template_name with ../', toml: '[database]\ntemplate_name = "../x"\n', message: /database\.template_name: "\.\.\/x" is not a valid template name/ },
    { what: 'template_name with a slash', toml: '[database]\ntemplate_name = "a/b"\n', message: /database\.template_name: "a\/b" is not a valid template name/ },
    { what: 'DBFAST_TEMPLATE_NAME with ../', toml: '', env: { DBFAST_TEMPLATE_NAME: '../../etc' }, message: /DBFAST_TEMPLATE_NAME: "\.\.\/\.\.\/etc" is not a valid template name/ },
    { what: 'a [[remotes]] name with ../', toml: '[environments.local]\n[[remotes]]\nname = "../../outside"\nurl = "postgresql://a@h/db"\nenvironment = "local"\n', message: /remotes\[0\]\.name: "\.\.\/\.\.\/outside" is not a valid remote name/ },
    { what: 'a [remotes."..."] name with ../', toml: '[environments.local]\n[remotes."../up"]\nurl = "postgresql://a@h/db"\nenvironment = "local"\n', message: /remotes\.\.\.\/up: "\.\.\/up" is not a valid remote name/ },
    { what: 'an environment name with a slash', toml: '[environments."a/../../b"]\n', message: /environments\.a\/\.\.\/\.\.\/b: "a\/\.\.\/\.\.\/b" is not a valid environment name/ },
    { what: 'include_directories leaving the repository', toml: '[environments.local]\ninclude_directories = ["0_schema", "../../other"]\n', message: /environments\.local\.include_directories\[1\]: "\.\.\/\.\.\/other" must be a folder inside the repository/ },
    { what: 'an absolute migration directory', toml: '[environments.local]\nmigration_directories = ["/etc"]\n', message: /environments\.local\.migration_directories\[0\]: "\/etc" must be a folder inside the repository/ },
  ];
  for (const c of cases) {
    it(`refuses ${c.what} (CONFIG_INVALID, exit 2)`, () => {
      const error = loadError(c.toml, c.env);
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
      expect(error.message).toMatch(c.message);
    });
  }

  it('a deploy with template_name = "../x" stops at load: nothing is written outside the project\'s work folder', async () => {
    const p = project(`[database]\ntemplate_name = "../x"\n[environments.local]\n[remotes.r]\nurl = "postgresql://a@127.0.0.1:${await freePort()}/db"\nenvironment = "local"\nallow_destructive = true\n`);
    const result = await cli(p.dir, ['--json', 'deploy', '--remote', 'r']);
    expect(result.exitCode).toBe(2);
    expect(parseJson<ErrorJson>(result).error.message).toMatch(/database\.template_name: "\.\.\/x" is not a valid template name/);
    // The dump would have gone to .dbfast/tmp/../x_local.dump: no work folder was even made.
    expect(existsSync(path.join(p.dir, '.dbfast', 'tmp'))).toBe(false);
    expect(existsSync(path.join(p.dir, '.dbfast', 'x_local.dump'))).toBe(false);
  });
});

// Issue 9 item 3 (config part) and issue 10 item 13: one validation for what is loaded and what `remote add` writes.
describe('a remote is checked the same way whether it is loaded or added', () => {
  const cases: Array<{ what: string; url: string; env: string; name?: string; code: string; problem: RegExp }> = [
    { what: 'sslmode=bogus', url: 'postgresql://a@h/db?sslmode=bogus', env: 'local', code: 'SSLMODE_INVALID', problem: /url: sslmode=bogus .*is not one of disable, allow, prefer, require, verify-ca, verify-full/ },
    { what: 'a port that is not one', url: 'postgresql://a@h:70000/db', env: 'local', code: 'REMOTE_URL_INVALID', problem: /url: port "70000" .*is not a port number/ },
    { what: 'an unknown connection parameter', url: 'postgresql://a@h/db?target_session_attrs=any', env: 'local', code: 'REMOTE_URL_INVALID', problem: /url: unknown or unsupported connection parameter "target_session_attrs"/ },
    { what: 'template1 as the database', url: 'postgresql://a@h/template1', env: 'local', code: 'REMOTE_DATABASE_PROTECTED', problem: /url: database "template1" \(from remotes\.\w+\.url\) is a template database of PostgreSQL itself/ },
    { what: 'template0 as the database', url: 'postgresql://a@h/template0?sslmode=require', env: 'local', code: 'REMOTE_DATABASE_PROTECTED', problem: /url: database "template0" .*template database/ },
    // Deploy, restore and rollback derive <name>__dbfast_restore etc.: 63 - 16 = 47 bytes at most, counted in UTF-8.
    { what: 'a 48-byte database name', url: `postgresql://a@h/${'d'.repeat(48)}`, env: 'local', code: 'NAME_TOO_LONG', problem: /url: database name "d{48}" is 48 bytes, more than the 47 dbfast can replace: .*"<name>__dbfast_restore".*at most 63 bytes \(from remotes\.\w+\.url\)/ },
    { what: 'a 24-character database name of 48 bytes (é is 2 bytes in UTF-8)', url: `postgresql://a@h/${encodeURIComponent('é'.repeat(24))}`, env: 'local', code: 'NAME_TOO_LONG', problem: /url: database name "é{24}" is 48 bytes, more than the 47/ },
    { what: 'a remote named production deploying "local"', url: 'postgresql://a@h/db', env: 'local', name: 'production', code: 'PRODUCTION_ENVIRONMENT_CONFLICT', problem: /environment: a remote named "production" makes its environment a production environment/ },
  ];
  const base = '[environments.local]\n[environments.staging]\n';

  for (const c of cases) {
    it(`${c.what}: refused at load and at remote add (exit 2), the file untouched`, async () => {
      const name = c.name ?? 'r';
      const loaded = project(`${base}\n[remotes.${name}]\nurl = "${c.url}"\nenvironment = "${c.env}"\n`);
      const atLoad = await cli(loaded.dir, ['--json', 'remote', 'list']);
      expect(atLoad.exitCode).toBe(2);
      const loadError = parseJson<ErrorJson>(atLoad).error;
      expect(loadError.code).toBe('CONFIG_INVALID');
      expect(loadError.message).toMatch(new RegExp(`remotes\\.${name}\\.${c.problem.source}`));

      const edited = project(base);
      const added = await cli(edited.dir, ['--json', 'remote', 'add', '--name', name, '--url', c.url, '--env', c.env]);
      expect(added.exitCode).toBe(2);
      const addError = parseJson<ErrorJson>(added).error;
      expect(addError.code).toBe(c.code);
      expect(addError.message).toMatch(new RegExp(`remotes\\.${name}\\.${c.problem.source}`));
      expect(edited.read()).toBe(base);
    });
  }

  it('a database named by PGDATABASE counts too: template1 from PGDATABASE is refused, naming PGDATABASE', async () => {
    const p = project(`${base}\n[remotes.r]\nurl = "postgresql://a@h"\nenvironment = "local"\n`);
    const result = await cli(p.dir, ['--json', 'remote', 'list'], { PGDATABASE: 'template1' });
    expect(result.exitCode).toBe(2);
    expect(parseJson<ErrorJson>(result).error.message).toMatch(/remotes\.r\.url: database "template1" \(from PGDATABASE\)/);
  });

  it('a database name of exactly 47 bytes (ASCII or UTF-8) is accepted at remote add and at load', async () => {
    for (const database of ['d'.repeat(47), `${'é'.repeat(23)}d`]) {
      const p = project(base);
      const added = await cli(p.dir, ['--json', 'remote', 'add', '--name', 'r', '--url', `postgresql://a@h/${encodeURIComponent(database)}`, '--env', 'local']);
      expect(added.exitCode, added.stdout + added.stderr).toBe(0);
      const listed = await cli(p.dir, ['--json', 'remote', 'list']);
      expect(listed.exitCode, listed.stdout + listed.stderr).toBe(0);
    }
  });

  it('a database name from PGDATABASE counts too: 48 bytes refused at load, naming PGDATABASE and the limit', async () => {
    const p = project(`${base}\n[remotes.r]\nurl = "postgresql://a@h"\nenvironment = "local"\n`);
    const result = await cli(p.dir, ['--json', 'remote', 'list'], { PGDATABASE: 'p'.repeat(48) });
    expect(result.exitCode).toBe(2);
    expect(parseJson<ErrorJson>(result).error.message).toMatch(/remotes\.r\.url: database name "p{48}" is 48 bytes, more than the 47 .*\(from PGDATABASE\)/);
  });

  it('"postgres" (the maintenance database) is allowed with a warning at remote add, in text and --json', async () => {
    const p = project(base);
    const human = await cli(p.dir, ['remote', 'add', '--name', 'main', '--url', 'postgresql://a@h/postgres', '--env', 'staging']);
    expect(human.exitCode).toBe(0);
    expect(human.stderr).toMatch(/warning: remote "main" deploys into database "postgres" .*maintenance database/);
    const q = project(base);
    const json = parseJson<{ warnings: string[] }>(await cli(q.dir, ['--json', 'remote', 'add', '--name', 'main', '--url', 'postgresql://a@h', '--env', 'staging'], { PGDATABASE: 'postgres' }));
    expect(json.warnings).toEqual([expect.stringMatching(/database "postgres" \(from PGDATABASE\)/)]);
  });

  it('a remote named production deploying another environment is added with a warning that it is now a production environment', async () => {
    const p = project(base);
    const result = await cli(p.dir, ['remote', 'add', '--name', 'production', '--url', 'postgresql://a@h/app', '--env', 'staging']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/warning: environment "staging" is now a production environment/);
  });
});

// Issue 10 item 18 (config part).
describe('a TOML syntax error', () => {
  it('names file:line:column and the fault, shows the line, and does not end in a dangling colon', async () => {
    const p = project('[database]\ntemplate_name = "ok"\nurl = = "x"\n');
    const result = await cli(p.dir, ['list']);
    expect(result.exitCode).toBe(2);
    const [first, ...rest] = result.stderr.split('\n');
    expect(first).toMatch(/^error: .*dbfast\.toml:3:7: invalid TOML: Unexpected character, expecting string, number, datetime, boolean, inline array or inline table$/);
    expect(rest.join('\n')).toContain('  3 | url = = "x"\n    |       ^');
    expect(result.stderr).not.toMatch(/:\s*\n/);
  });
});
