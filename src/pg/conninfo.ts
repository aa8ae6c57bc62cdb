import { DbfastError } from '../errors.js';

/**
 * libpq connection strings, read the way libpq reads them
 * (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING): a URI
 * (`postgresql://user:pw@host:port/db?key=value`) or keyword/value pairs (`host=h dbname=d`).
 * Written here rather than with WHATWG `URL`, which rejects URIs libpq takes
 * (`postgresql://user@/db?host=/tmp`) and decodes `+` in parameters as a space, and rather than
 * with pg-connection-string, which applies node-postgres' own sslmode rules and reads
 * certificate files while parsing.
 */
export type Conninfo = Record<string, string>;

/** The libpq keywords dbfast resolves and applies to its own connections and its children alike. */
export const SUPPORTED_KEYWORDS = [
  'host', 'port', 'dbname', 'user', 'password', 'passfile',
  'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword',
  'application_name', 'options', 'connect_timeout',
] as const;
export type Keyword = (typeof SUPPORTED_KEYWORDS)[number];

/** libpq's sslmode values, weakest first. */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Keywords whose values are secrets: never in argv, logs, errors, --json or dbfast.toml. */
export const SECRET_KEYWORDS: readonly string[] = ['password', 'sslpassword'];

const URI_PREFIX = /^postgres(?:ql)?:\/\//i;

export function isConnectionUri(text: string): boolean {
  return URI_PREFIX.test(text);
}

function invalid(what: string, reason: string): DbfastError {
  return new DbfastError('CONNECTION_SETTING_INVALID', `${what}: ${reason}`, {
    hint: 'Write it as postgresql://USER@HOST:PORT/DATABASE?sslmode=require, or as key=value pairs (host=... dbname=...).',
  });
}

function percentDecode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(what, `"${text.replace(/%.*/, '%…')}" has an invalid %-escape`);
  }
}

function checkKeyword(key: string, what: string): void {
  if ((SUPPORTED_KEYWORDS as readonly string[]).includes(key)) return;
  if (key === 'hostaddr' || key === 'service') {
    throw new DbfastError('CONNECTION_SETTING_UNSUPPORTED', `${what}: "${key}" is not supported by dbfast`, {
      hint: key === 'service' ? 'Write the settings of the service into the URL (pg_service.conf is not read).' : 'Put the address in host instead.',
    });
  }
  throw new DbfastError('CONNECTION_SETTING_UNSUPPORTED', `${what}: unknown or unsupported connection parameter "${key}"`, {
    hint: `dbfast understands ${SUPPORTED_KEYWORDS.join(', ')} (and ssl=true for sslmode=require).`,
  });
}

function put(info: Conninfo, key: string, value: string, what: string): void {
  // libpq's JDBC-compatible spelling.
  if (key === 'ssl') {
    if (value !== 'true') throw invalid(what, `ssl=${value}: only ssl=true is understood (it means sslmode=require)`);
    info.sslmode ??= 'require';
    return;
  }
  checkKeyword(key, what);
  info[key] = value;
}

function parseUri(text: string, what: string): Conninfo {
  const info: Conninfo = {};
  let rest = text.replace(URI_PREFIX, '');
  const queryAt = rest.indexOf('?');
  const query = queryAt >= 0 ? rest.slice(queryAt + 1) : '';
  if (queryAt >= 0) rest = rest.slice(0, queryAt);
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  const at = authority.lastIndexOf('@');
  let hostPart = authority;
  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    hostPart = authority.slice(at + 1);
    const colon = userInfo.indexOf(':');
    const user = colon >= 0 ? userInfo.slice(0, colon) : userInfo;
    if (user) info.user = percentDecode(user, what);
    if (colon >= 0) info.password = percentDecode(userInfo.slice(colon + 1), what);
  }
  if (hostPart.includes(',')) throw new DbfastError('CONNECTION_SETTING_UNSUPPORTED', `${what}: several hosts are not supported by dbfast`, { hint: 'Name one host.' });
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(hostPart);
  const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : hostPart.split(/:(?=[^:]*$)/);
  if (host) info.host = percentDecode(host, what);
  if (port) info.port = port;
  if (path) info.dbname = percentDecode(path, what);
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const equals = pair.indexOf('=');
    if (equals <= 0) throw invalid(what, `"${pair.split('=')[0]}" in the query has no value`);
    put(info, percentDecode(pair.slice(0, equals), what), percentDecode(pair.slice(equals + 1), what), what);
  }
  return info;
}

function parseKeywordValue(text: string, what: string): Conninfo {
  const info: Conninfo = {};
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= text.length) return info;
    const keyStart = i;
    while (i < text.length && text[i] !== '=' && !/\s/.test(text[i] as string)) i++;
    const key = text.slice(keyStart, i);
    skipSpace();
    if (text[i] !== '=') throw invalid(what, `"${key}" is missing "=" and a value`);
    i++;
    skipSpace();
    let value = '';
    const quoted = text[i] === "'";
    if (quoted) i++;
    for (; i < text.length; i++) {
      const ch = text[i] as string;
      if (ch === '\\' && i + 1 < text.length) value += text[++i];
      else if (quoted ? ch === "'" : /\s/.test(ch)) break;
      else value += ch;
    }
    if (quoted) {
      if (text[i] !== "'") throw invalid(what, `the quoted value of "${key}" is not closed`);
      i++;
    }
    put(info, key, value, what);
  }
}

/** Parses a URI or keyword/value string; `what` names where it came from, for messages (never the value). */
export function parseConninfo(text: string, what: string): Conninfo {
  if (isConnectionUri(text)) return parseUri(text, what);
  if (/^\s*[A-Za-z_]+\s*=/.test(text) || text.trim() === '') return parseKeywordValue(text, what);
  throw invalid(what, 'is neither a postgresql:// URL nor key=value settings');
}

/** The secret keywords a connection string carries (for refusing them where they must not be written). */
export function secretsIn(info: Conninfo): string[] {
  return SECRET_KEYWORDS.filter((key) => info[key] !== undefined);
}
