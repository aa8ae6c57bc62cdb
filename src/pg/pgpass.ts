import { readFileSync, statSync } from 'node:fs';
import { DEFAULT_SOCKET_DIRS, type ConnectionSettings } from './connection.js';

/**
 * libpq's password file (https://www.postgresql.org/docs/current/libpq-pgpass.html), read by
 * dbfast itself so its own connections find the same password pg_dump/psql will: PGPASSFILE
 * or ~/.pgpass (the resolved `passfile` setting), `host:port:database:user:password` lines,
 * `*` wildcards, `\:` and `\\` escapes, first match wins, and a file readable by group or others
 * is ignored. (node-postgres' built-in lookup is deprecated and prints a warning: never used.)
 */

function splitFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '\\' && i + 1 < line.length) current += line[++i];
    else if (ch === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else current += ch;
  }
  fields.push(current);
  return fields;
}

export interface PgpassResult {
  password?: string | undefined;
  /** Why the file was not used (wrong permissions), for a warning. */
  ignoredReason?: string | undefined;
}

export function lookupPgpass(settings: ConnectionSettings): PgpassResult {
  const file = settings.passfile;
  let text: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return {};
    if ((stat.mode & 0o077) !== 0) {
      return { ignoredReason: `${file} is readable by group or others; libpq and dbfast ignore it until you run chmod 0600 ${file}` };
    }
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  // libpq matches a socket in its default folder as "localhost", any other socket by its path.
  const host = DEFAULT_SOCKET_DIRS.includes(settings.host) ? 'localhost' : settings.host;
  const wanted = [host, String(settings.port), settings.dbname, settings.user];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const fields = splitFields(raw);
    if (fields.length < 5) continue;
    const matches = wanted.every((value, index) => fields[index] === '*' || fields[index] === value);
    if (matches) return { password: fields[4] };
  }
  return {};
}
