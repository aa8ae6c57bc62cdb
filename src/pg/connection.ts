import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import { parseConninfo, SSL_MODES, type Keyword, type SslMode } from './conninfo.js';

/**
 * THE resolver of connection settings: every command, the fast seed path and the library get
 * their targets from `resolveConnection`, so a URL, `password_env`, the PG* variables,
 * ~/.pgpass and sslmode mean the same everywhere, and the same as to libpq
 * (https://www.postgresql.org/docs/current/libpq-envars.html): what the connection string or
 * the config gives wins, then the PG* variable, then libpq's default (the OS user, a database
 * named like the user, the Unix socket, port 5432, sslmode=prefer). The result is explicit, so
 * node-postgres and the libpq children (see childEnv) never apply defaults of their own.
 */

/** A connection setting dbfast resolves (libpq keyword names). */
export type SettingName =
  | 'host' | 'port' | 'user' | 'dbname' | 'password' | 'passfile' | 'sslmode' | 'sslrootcert'
  | 'sslcert' | 'sslkey' | 'sslpassword' | 'application_name' | 'options' | 'connect_timeout';

/**
 * Every setting of one connection, resolved once with libpq's meaning (see connection.ts), and
 * where each came from (`database.url`, `PGHOST`, `the OS user`, ...) for messages. dbfast's
 * own connections and its libpq children (psql, pg_dump, pg_restore, hooks) both use exactly these.
 */
export interface ConnectionSettings {
  /** A host name or address, or a Unix-socket folder (starts with `/`). */
  host: string;
  port: number;
  user: string;
  dbname: string;
  sslmode: SslMode;
  sslrootcert?: string | undefined;
  sslcert?: string | undefined;
  sslkey?: string | undefined;
  /** The password file read when no password is given (PGPASSFILE or ~/.pgpass). */
  passfile: string;
  applicationName?: string | undefined;
  options?: string | undefined;
  connectTimeoutSeconds?: number | undefined;
  sources: Partial<Record<SettingName, string>>;
}

/**
 * Where a database lives. `url` never holds a secret, so it may go into argv and logs; the
 * password and the client key's passphrase travel only in a client config, or in a child's
 * environment and a private file (childEnv).
 */
export interface DbTarget {
  /** postgresql:// URL of the resolved host, port, user and database, plus the non-secret parameters given; no secret. */
  url: string;
  password?: string | undefined;
  /** sslpassword: the passphrase of the client key. */
  sslPassword?: string | undefined;
  settings: ConnectionSettings;
}

/** A value and where it came from: a config key (`database.url`), a variable (`DATABASE_URL`), ... */
export interface Given {
  value: string;
  source: string;
}

export interface ConnectionSpec {
  /** A connection string (URL or key=value). */
  conninfo?: Given | undefined;
  /** Settings given one by one (the [database] table); they win over the connection string. */
  fields?: Partial<Record<'host' | 'port' | 'user' | 'dbname', Given>> | undefined;
  /** `password_env`: the variable's name and the key that names it; wins over any other password. */
  passwordEnv?: { name: string; key: string } | undefined;
  /** A password handed over by code (wins like password_env). */
  password?: Given | undefined;
}

/** libpq's variable for each keyword (sslpassword has none). */
const ENV_VARIABLES: Partial<Record<Keyword, string>> = {
  host: 'PGHOST', port: 'PGPORT', dbname: 'PGDATABASE', user: 'PGUSER', password: 'PGPASSWORD', passfile: 'PGPASSFILE',
  sslmode: 'PGSSLMODE', sslrootcert: 'PGSSLROOTCERT', sslcert: 'PGSSLCERT', sslkey: 'PGSSLKEY',
  application_name: 'PGAPPNAME', options: 'PGOPTIONS', connect_timeout: 'PGCONNECT_TIMEOUT',
};

/** Folders where PostgreSQL servers put their socket (Debian's, then the upstream default). */
export const DEFAULT_SOCKET_DIRS: readonly string[] = ['/var/run/postgresql', '/tmp'];

/** Parameters that go into the printed URL when the connection string or config gave them. */
const URL_PARAMETERS: Keyword[] = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'passfile', 'application_name', 'options', 'connect_timeout'];

function invalid(message: string, hint: string): DbfastError {
  return new DbfastError('CONNECTION_SETTING_INVALID', message, { hint });
}

function homeDir(env: NodeJS.ProcessEnv): string {
  // libpq takes $HOME first, then the password database.
  return env.HOME || os.userInfo().homedir;
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    throw invalid('no user is given (URL, [database] user, PGUSER) and the OS user cannot be looked up', 'Name the user in the URL (postgresql://USER@HOST/DB) or set PGUSER.');
  }
}

/**
 * libpq's default host is the Unix socket in the folder it was built with; which folder that is
 * depends on the build, so dbfast takes the usual ones where a server listens, else localhost.
 */
function defaultHost(port: number): Given {
  for (const dir of DEFAULT_SOCKET_DIRS) {
    if (existsSync(path.join(dir, `.s.PGSQL.${port}`))) return { value: dir, source: `default: the Unix socket in ${dir}` };
  }
  return { value: 'localhost', source: 'default: no Unix socket in /var/run/postgresql or /tmp' };
}

function parsePort(given: Given): number {
  const port = Number(given.value);
  if (!/^\d+$/.test(given.value) || port < 1 || port > 65535) {
    throw invalid(`port "${given.value}" (from ${given.source}) is not a port number`, `Fix the port in ${given.source}: a number from 1 to 65535.`);
  }
  return port;
}

function parseSslMode(given: Given): SslMode {
  if (!(SSL_MODES as readonly string[]).includes(given.value)) {
    throw new DbfastError('SSLMODE_INVALID', `sslmode=${given.value} (from ${given.source}) is not one of ${SSL_MODES.join(', ')}`, {
      hint: 'Use sslmode=require to encrypt, verify-full to also check the certificate, disable for none.',
    });
  }
  return given.value as SslMode;
}

function pemDefault(home: string, name: string): Given | undefined {
  const file = path.join(home, '.postgresql', name);
  return existsSync(file) ? { value: file, source: `default: ~/.postgresql/${name}` } : undefined;
}

function urlHost(host: string): string {
  if (host.startsWith('/')) return 'localhost';
  return host.includes(':') ? `[${host}]` : encodeURIComponent(host);
}

/** The canonical, secret-free URL: always parseable by WHATWG URL (a socket folder goes into ?host=). */
function buildUrl(settings: ConnectionSettings, explicit: ReadonlyMap<Keyword, string>): string {
  const params: string[] = [];
  if (settings.host.startsWith('/')) params.push(`host=${encodeURIComponent(settings.host)}`);
  for (const key of URL_PARAMETERS) {
    const value = explicit.get(key);
    if (value !== undefined) params.push(`${key}=${encodeURIComponent(value)}`);
  }
  const query = params.length > 0 ? `?${params.join('&')}` : '';
  return `postgresql://${encodeURIComponent(settings.user)}@${urlHost(settings.host)}:${settings.port}/${encodeURIComponent(settings.dbname)}${query}`;
}

/** Resolves every setting once; throws (exit 2) on a value libpq would not take, naming where it came from. */
export function resolveConnection(spec: ConnectionSpec, env: NodeJS.ProcessEnv): DbTarget {
  const given = new Map<Keyword, Given>();
  if (spec.conninfo) {
    for (const [key, value] of Object.entries(parseConninfo(spec.conninfo.value, spec.conninfo.source))) {
      given.set(key as Keyword, { value, source: spec.conninfo.source });
    }
  }
  for (const [key, field] of Object.entries(spec.fields ?? {})) if (field) given.set(key as Keyword, field);
  if (spec.password) given.set('password', spec.password);
  else if (spec.passwordEnv) {
    const { name, key } = spec.passwordEnv;
    const value = env[name];
    if (value === undefined) {
      throw new DbfastError('PASSWORD_ENV_UNSET', `${key} names ${name}, which is not set`, {
        hint: `Export ${name} with the password, or remove ${key} to use the URL, PGPASSWORD or ~/.pgpass.`,
      });
    }
    given.set('password', { value, source: `${key} (${name})` });
  }
  const setting = (key: Keyword): Given | undefined => {
    const own = given.get(key);
    if (own !== undefined && own.value !== '') return own;
    const variable = ENV_VARIABLES[key];
    const value = variable ? env[variable] : undefined;
    return value !== undefined && value !== '' ? { value, source: variable as string } : undefined;
  };

  const sources: Partial<Record<SettingName, string>> = {};
  const take = (key: Keyword, fallback: () => Given | undefined): string | undefined => {
    const found = setting(key) ?? fallback();
    if (found) sources[key] = found.source;
    return found?.value;
  };
  const portGiven = setting('port');
  const port = portGiven ? parsePort(portGiven) : 5432;
  sources.port = portGiven?.source ?? 'default';
  const host = take('host', () => defaultHost(port)) as string;
  const user = take('user', () => ({ value: osUser(), source: 'the OS user (no user given anywhere)' })) as string;
  const dbname = take('dbname', () => ({ value: user, source: 'default: named like the user' })) as string;
  const requireSsl = env.PGREQUIRESSL === '1' ? { value: 'require', source: 'PGREQUIRESSL' } : undefined;
  const sslmodeGiven = setting('sslmode') ?? requireSsl;
  const sslmode = sslmodeGiven ? parseSslMode(sslmodeGiven) : 'prefer';
  sources.sslmode = sslmodeGiven?.source ?? 'default';
  const home = homeDir(env);
  const timeout = setting('connect_timeout');
  if (timeout && !/^\d+$/.test(timeout.value)) throw invalid(`connect_timeout "${timeout.value}" (from ${timeout.source}) is not a number of seconds`, `Fix connect_timeout in ${timeout.source}.`);
  if (timeout) sources.connect_timeout = timeout.source;

  const settings: ConnectionSettings = {
    host,
    port,
    user,
    dbname,
    sslmode,
    sslrootcert: take('sslrootcert', () => pemDefault(home, 'root.crt')),
    sslcert: take('sslcert', () => pemDefault(home, 'postgresql.crt')),
    sslkey: take('sslkey', () => pemDefault(home, 'postgresql.key')),
    passfile: take('passfile', () => ({ value: path.join(home, '.pgpass'), source: 'default: ~/.pgpass' })) as string,
    applicationName: take('application_name', () => undefined),
    options: take('options', () => undefined),
    connectTimeoutSeconds: timeout ? Number(timeout.value) : undefined,
    sources,
  };
  const password = setting('password');
  if (password) sources.password = password.source;
  const sslPassword = given.get('sslpassword');
  if (sslPassword) sources.sslpassword = sslPassword.source;
  const explicit = new Map<Keyword, string>();
  for (const [key, value] of given) if (value.value !== '') explicit.set(key, value.value);
  return { url: buildUrl(settings, explicit), password: password?.value, sslPassword: sslPassword?.value, settings };
}

/** A target from one connection string (and a password kept apart from it), with this process's environment. */
export function targetFromUrl(url: string, password?: string, env: NodeJS.ProcessEnv = process.env): DbTarget {
  return resolveConnection({ conninfo: { value: url, source: 'the URL' }, password: password === undefined ? undefined : { value: password, source: 'given apart from the URL' } }, env);
}
