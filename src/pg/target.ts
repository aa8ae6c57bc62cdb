import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SECRET_KEYWORDS } from './conninfo.js';
import type { ConnectionSettings, DbTarget, SettingName } from './connection.js';

export type { ConnectionSettings, DbTarget, SettingName } from './connection.js';
/** Kept here too: callers build targets from one URL with it. */
export { targetFromUrl } from './connection.js';

/** Every secret a target carries (for scrubbing messages). */
export function targetSecrets(target: DbTarget): string[] {
  return [target.password, target.sslPassword].filter((value): value is string => value !== undefined && value !== '');
}

export function isUnixSocket(settings: Pick<ConnectionSettings, 'host'>): boolean {
  return settings.host.startsWith('/');
}

/**
 * Any text that may hold a connection string, with every secret masked: `user:***@`,
 * `password=***`, `sslpassword=***` (URL query or key=value form). Used for everything printed.
 */
export function maskUrl(text: string): string {
  const secrets = SECRET_KEYWORDS.join('|');
  return text
    .replace(/(postgres(?:ql)?:\/\/[^:/@?\s]*:)[^/?\s]*@/gi, '$1***@')
    .replace(new RegExp(`([?&\\s]|^)(${secrets})(\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|[^&\\s]*)`, 'gi'), '$1$2$3***');
}

/** The URL to show: the target's (secret-free) URL, with `user:***@` when a password is used. */
export function displayUrl(target: DbTarget): string {
  return target.password === undefined ? target.url : target.url.replace(/^(postgresql:\/\/[^@/?]*)@/, '$1:***@');
}

/** The same server, another database. */
export function withDatabase(target: DbTarget, database: string): DbTarget {
  const parsed = new URL(target.url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return { ...target, url: parsed.toString(), settings: { ...target.settings, dbname: database, sources: { ...target.settings.sources, dbname: 'chosen by dbfast' } } };
}

export function databaseName(target: DbTarget): string {
  return target.settings.dbname;
}

/** `host:port` or the socket folder, for messages. */
export function serverLabel(settings: ConnectionSettings): string {
  return isUnixSocket(settings) ? `${settings.host} (Unix socket, port ${settings.port})` : `${settings.host}:${settings.port}`;
}

/** "host 127.0.0.1 (from PGHOST), port 5432 (default), ..." for connection hints. */
export function describeSettings(target: DbTarget, names: SettingName[] = ['host', 'port', 'user', 'dbname']): string {
  const { settings } = target;
  const label: Partial<Record<SettingName, string>> = { dbname: 'database' };
  const value = (name: SettingName): string => {
    if (name === 'password') return target.password === undefined ? 'none given' : 'given';
    const raw = (settings as unknown as Record<string, unknown>)[name === 'application_name' ? 'applicationName' : name];
    return raw === undefined ? 'unset' : String(raw);
  };
  return names.map((name) => `${label[name] ?? name} ${value(name)} (${settings.sources[name] ?? 'default'})`).join(', ');
}

let serviceDir: string | undefined;
const serviceFiles = new Map<string, string>();

/**
 * libpq has no environment variable for sslpassword, so a child gets it from a service file
 * (PGSERVICEFILE + PGSERVICE) in a private folder (0700, file 0600), removed when the process exits.
 */
function serviceFileFor(sslPassword: string): string {
  const known = serviceFiles.get(sslPassword);
  if (known) return known;
  if (!serviceDir) {
    serviceDir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-secret-'));
    const dir = serviceDir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const file = path.join(serviceDir, `service-${serviceFiles.size}.conf`);
  // Inside a service file a value runs to the end of its line; a line break in the secret cannot be written.
  if (/[\r\n]/.test(sslPassword)) throw new Error('sslpassword contains a line break, which libpq cannot read from a service file');
  writeFileSync(file, `[dbfast]\nsslpassword=${sslPassword}\n`, { mode: 0o600 });
  serviceFiles.set(sslPassword, file);
  return file;
}

/**
 * The environment of a libpq child (psql, pg_dump, pg_restore, a deploy hook): every resolved
 * setting spelled out, so the child means exactly what dbfast's own connections mean whatever the
 * caller's environment holds; secrets only here, never in argv. `undefined` removes a variable
 * the parent has that would change the meaning (a service, a host address).
 */
export function childEnv(target: DbTarget): Record<string, string | undefined> {
  const { settings } = target;
  const env: Record<string, string | undefined> = {
    PGHOST: settings.host,
    PGPORT: String(settings.port),
    PGUSER: settings.user,
    PGDATABASE: settings.dbname,
    PGSSLMODE: settings.sslmode,
    PGPASSFILE: settings.passfile,
    PGSSLROOTCERT: settings.sslrootcert,
    PGSSLCERT: settings.sslcert,
    PGSSLKEY: settings.sslkey,
    PGOPTIONS: settings.options,
    PGPASSWORD: target.password,
    PGHOSTADDR: undefined,
    PGREQUIRESSL: undefined,
    PGSERVICE: undefined,
    PGSERVICEFILE: undefined,
  };
  if (settings.applicationName !== undefined) env.PGAPPNAME = settings.applicationName;
  if (settings.connectTimeoutSeconds !== undefined) env.PGCONNECT_TIMEOUT = String(settings.connectTimeoutSeconds);
  if (target.sslPassword !== undefined) {
    env.PGSERVICEFILE = serviceFileFor(target.sslPassword);
    env.PGSERVICE = 'dbfast';
  }
  return env;
}
