import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { resolveExternalConnection } from '../../src/config/targets.js';
import { localTarget, resolveLocalConnection } from '../../src/server/managed.js';
import { tempDir, writeTree } from '../support/files.js';

function loadText(text: string, env: NodeJS.ProcessEnv) {
  return loadConfig({ cwd: writeTree(tempDir(), { 'dbfast.toml': text }), env });
}

/** The configured local connection of a file loaded with `env`, resolved with that same env. */
function local(text: string, env: NodeJS.ProcessEnv) {
  return resolveExternalConnection(loadText(text, env));
}

describe('the local database: precedence, libpq meaning, where each setting came from', () => {
  it('DBFAST_* variables beat the file', async () => {
    const env = { DBFAST_DATABASE_URL: 'postgresql://env@h/db', DBFAST_TEMPLATE_NAME: 'env', DBFAST_REPOSITORY_PATH: 'b' };
    const config = loadText('[database]\nurl = "postgresql://file@h/db"\ntemplate_name = "file"\n[repository]\npath = "a"\n', env);
    const { source, target } = await resolveLocalConnection(config);
    expect(source).toBe('DBFAST_DATABASE_URL');
    expect(target.url).toBe('postgresql://env@h:5432/db');
    expect(target.settings.sources).toMatchObject({ host: 'DBFAST_DATABASE_URL', user: 'DBFAST_DATABASE_URL', port: 'default' });
    expect(config.database.templateName).toBe('env');
    expect(config.repository.path).toBe(`${config.rootDir}/b`);
  });

  it('the file beats DATABASE_URL; PG* fill what the URL leaves out, as libpq does', () => {
    const { source, target } = local('[database]\nurl = "postgresql://file@h/db"\n', { DATABASE_URL: 'postgresql://du@h/db', PGHOST: 'pghost', PGPORT: '6543' });
    expect(source).toBe('database.url');
    expect(target.settings).toMatchObject({ host: 'h', port: 6543, user: 'file', dbname: 'db' });
    expect(target.settings.sources).toMatchObject({ host: 'database.url', port: 'PGPORT' });
  });

  it('builds the target from host/port/user/dbname, filling gaps from PG*', () => {
    const { source, target } = local('[database]\nhost = "db.internal"\nport = 6432\nuser = "app"\n', { PGDATABASE: 'appdb', DATABASE_URL: 'postgresql://ignored@h/db' });
    expect(source).toBe('[database]');
    expect(target.url).toBe('postgresql://app@db.internal:6432/appdb');
    expect(target.settings.sources).toMatchObject({ host: 'database.host', port: 'database.port', user: 'database.user', dbname: 'PGDATABASE' });
  });

  it('falls back to DATABASE_URL when the file names no server', () => {
    const { source, target } = local('[database]\ntemplate_name = "x"\n', { DATABASE_URL: 'postgresql://du@dbhost:5544/dudb', PGHOST: 'ignored' });
    expect(source).toBe('DATABASE_URL');
    expect(target.url).toBe('postgresql://du@dbhost:5544/dudb');
  });

  it('falls back to the libpq PG* variables (a socket directory goes into ?host=); PGPASSWORD is the password', () => {
    const { source, target } = local('', { PGHOST: '/var/run/postgresql', PGPORT: '5433', PGUSER: 'bob', PGDATABASE: 'bobdb', PGPASSWORD: 'pw' });
    expect(source).toBe('PG* environment variables');
    expect(target.url).toBe('postgresql://bob@localhost:5433/bobdb?host=%2Fvar%2Frun%2Fpostgresql');
    expect(target.password).toBe('pw');
    expect(target.settings.sources.password).toBe('PGPASSWORD');
  });

  it('with PGHOST and no user anywhere, the user is the OS user and the database is named like it (libpq)', () => {
    const { target } = local('', { PGHOST: '127.0.0.1', USER: undefined });
    const me = os.userInfo().username;
    expect(target.settings).toMatchObject({ host: '127.0.0.1', port: 5432, user: me, dbname: me, sslmode: 'prefer' });
    expect(target.settings.sources.user).toMatch(/OS user/);
  });

  it('server = "external" and nothing else: libpq\'s defaults', () => {
    const { source, target } = local('[database]\nserver = "external"\n', { HOME: tempDir() });
    expect(source).toBe('libpq defaults');
    expect(target.settings.port).toBe(5432);
    expect(target.settings.sources.host).toMatch(/^default/);
  });

  it('reads the password from password_env and keeps it out of the URL; an inline URL password is split out', async () => {
    const config = loadText('[database]\nurl = "postgresql://app@h/db"\npassword_env = "APP_PW"\n', {});
    expect(await localTarget(config, { APP_PW: 'hunter2' })).toMatchObject({ url: 'postgresql://app@h:5432/db', password: 'hunter2' });
    expect((await localTarget(config, { APP_PW: 'hunter2' })).settings.sources.password).toBe('database.password_env (APP_PW)');
    await expect(localTarget(config, {})).rejects.toMatchObject({ code: 'PASSWORD_ENV_UNSET', exitCode: 2 });
    const inline = local('', { DATABASE_URL: 'postgresql://app:inline@h/db' }).target;
    expect(inline).toMatchObject({ url: 'postgresql://app@h:5432/db', password: 'inline' });
    // password_env wins over the URL's password, which wins over PGPASSWORD.
    const both = loadText('[database]\npassword_env = "APP_PW"\n', { DATABASE_URL: 'postgresql://app:inline@h/db', APP_PW: 'from-env', PGPASSWORD: 'pg' });
    expect((await localTarget(both)).password).toBe('from-env');
    expect(local('', { DATABASE_URL: 'postgresql://app:inline@h/db', PGPASSWORD: 'pg' }).target.password).toBe('inline');
  });

  it('uses the managed server when nothing names one; server = "external" keeps libpq\'s default instead', () => {
    expect(loadText('', {}).database).toMatchObject({ server: 'managed', url: undefined });
    expect(loadText('[database]\nserver = "external"\n', {}).database).toMatchObject({ server: 'external', url: undefined });
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

  it('refuses url together with host/port/user/dbname, and a bad sslmode or port in the URL, naming the key', () => {
    expect(() => loadText('[database]\nurl = "postgresql://a@h/db"\nhost = "other"\n', {})).toThrow(/database: url and host are both set/);
    expect(() => loadText('[database]\nurl = "postgresql://a@h/db?sslmode=bogus"\n', {})).toThrow(/database\.url: sslmode=bogus \(from database\.url\) is not one of/);
    expect(() => loadText('[database]\nurl = "postgresql://a@h:99999/db"\n', {})).toThrow(/database\.url: port "99999" \(from database\.url\) is not a port number/);
  });
});
