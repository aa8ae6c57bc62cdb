import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { localTarget } from '../../src/server/managed.js';
import { tempDir, writeTree } from '../support/files.js';

function loadText(text: string, env: NodeJS.ProcessEnv) {
  return loadConfig({ cwd: writeTree(tempDir(), { 'dbfast.toml': text }), env });
}

describe('the local database: precedence', () => {
  it('DBFAST_* variables beat the file', () => {
    const config = loadText('[database]\nurl = "postgresql://file@h/db"\ntemplate_name = "file"\n[repository]\npath = "a"\n', {
      DBFAST_DATABASE_URL: 'postgresql://env@h/db',
      DBFAST_TEMPLATE_NAME: 'env',
      DBFAST_REPOSITORY_PATH: 'b',
    });
    expect(config.database).toMatchObject({ url: 'postgresql://env@h/db', source: 'DBFAST_DATABASE_URL', templateName: 'env' });
    expect(config.repository.path).toBe(`${config.rootDir}/b`);
  });

  it('the file beats DATABASE_URL and PG*', () => {
    const config = loadText('[database]\nurl = "postgresql://file@h/db"\n', { DATABASE_URL: 'postgresql://du@h/db', PGHOST: 'pghost' });
    expect(config.database).toMatchObject({ url: 'postgresql://file@h/db', source: 'database.url' });
  });

  it('builds a URL from host/port/user/dbname, filling gaps from PG*', () => {
    const config = loadText('[database]\nhost = "db.internal"\nport = 6432\nuser = "app"\n', { PGDATABASE: 'appdb', DATABASE_URL: 'postgresql://ignored@h/db' });
    expect(config.database).toMatchObject({ url: 'postgresql://app@db.internal:6432/appdb', source: '[database]' });
  });

  it('falls back to DATABASE_URL when the file names no server', () => {
    const config = loadText('[database]\ntemplate_name = "x"\n', { DATABASE_URL: 'postgresql://du@dbhost:5544/dudb', PGHOST: 'ignored' });
    expect(config.database).toMatchObject({ url: 'postgresql://du@dbhost:5544/dudb', source: 'DATABASE_URL' });
  });

  it('falls back to the libpq PG* variables (a socket directory goes into ?host=)', async () => {
    const config = loadText('', { PGHOST: '/var/run/postgresql', PGPORT: '5433', PGUSER: 'bob', PGDATABASE: 'bobdb', PGPASSWORD: 'pw' });
    expect(config.database).toMatchObject({
      url: 'postgresql://bob@localhost:5433/bobdb?host=%2Fvar%2Frun%2Fpostgresql',
      source: 'PG* environment variables',
      passwordEnv: 'PGPASSWORD',
    });
    expect((await localTarget(config, { PGPASSWORD: 'pw' })).password).toBe('pw');
  });

  it('uses the managed server when nothing names one; server = "external" keeps libpq\'s default instead', () => {
    expect(loadText('', {}).database).toMatchObject({ server: 'managed', url: undefined, source: 'the managed server' });
    expect(loadText('[database]\nserver = "external"\n', {}).database).toMatchObject({ server: 'external', url: 'postgresql://localhost/postgres' });
  });

  // Which configuration names the local server, and so keeps the managed one out.
  it.each([
    ['nothing', '', {}, 'managed'],
    ['template_name, user and dbname only', '[database]\ntemplate_name = "x"\nuser = "u"\ndbname = "d"\n', { PGUSER: 'u', PGDATABASE: 'd' }, 'managed'],
    ['[database] url', '[database]\nurl = "postgresql://h/db"\n', {}, 'external'],
    ['[database] host', '[database]\nhost = "h"\n', {}, 'external'],
    ['[database] port', '[database]\nport = 5433\n', {}, 'external'],
    ['DATABASE_URL', '', { DATABASE_URL: 'postgresql://h/db' }, 'external'],
    ['DBFAST_DATABASE_URL', '', { DBFAST_DATABASE_URL: 'postgresql://h/db' }, 'external'],
    ['PGHOST', '', { PGHOST: '/run/postgresql' }, 'external'],
    ['PGPORT', '', { PGPORT: '5433' }, 'external'],
    ['server = "managed" over DATABASE_URL and PGHOST', '[database]\nserver = "managed"\n', { DATABASE_URL: 'postgresql://h/db', PGHOST: 'h' }, 'managed'],
    ['DBFAST_DATABASE_URL over server = "managed"', '[database]\nserver = "managed"\n', { DBFAST_DATABASE_URL: 'postgresql://h/db' }, 'external'],
    ['server = "external" with nothing else', '[database]\nserver = "external"\n', {}, 'external'],
  ] as const)('%s: %s', (_label, text, env, expected) => {
    expect(loadText(text, { ...env }).database.server).toBe(expected);
  });

  it('refuses server = "managed" beside an address in the same file (exit 2, naming both keys)', () => {
    expect(() => loadText('[database]\nserver = "managed"\nurl = "postgresql://h/db"\nport = 5433\n', {})).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', exitCode: 2, message: expect.stringContaining('database.url and database.port') }),
    );
    expect(() => loadText('[database]\nserver = "both"\n', {})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', exitCode: 2 }));
  });

  it('reads the password from password_env and keeps it out of the URL; an inline URL password is split out', async () => {
    const config = loadText('[database]\nurl = "postgresql://app@h/db"\npassword_env = "APP_PW"\n', {});
    expect(await localTarget(config, { APP_PW: 'hunter2' })).toEqual({ url: 'postgresql://app@h/db', password: 'hunter2' });
    await expect(localTarget(config, {})).rejects.toMatchObject({ code: 'PASSWORD_ENV_UNSET', exitCode: 2 });
    const inline = loadText('', { DATABASE_URL: 'postgresql://app:inline@h/db' });
    expect(await localTarget(inline, {})).toEqual({ url: 'postgresql://app@h/db', password: 'inline' });
  });
});
