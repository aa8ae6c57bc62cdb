import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * libpq's password file (https://www.postgresql.org/docs/current/libpq-pgpass.html), read by
 * dbfast itself so its own connections find the same password pg_dump/psql will: PGPASSFILE
 * or ~/.pgpass, `host:port:database:user:password` lines, `*` wildcards, `\:` and `\\`
 * escapes, first match wins, and a file readable by group or others is ignored.
 * (node-postgres' built-in lookup does the same but is deprecated and prints a warning.)
 */
export interface PgpassQuery {
  host?: string | undefined;
  port?: number | string | undefined;
  database?: string | undefined;
  user?: string | undefined;
}

export function pgpassFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.PGPASSFILE || path.join(env.HOME || os.homedir(), '.pgpass');
}

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

export function lookupPgpass(query: PgpassQuery, env: NodeJS.ProcessEnv = process.env): PgpassResult {
  const file = pgpassFile(env);
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
  const host = !query.host || query.host.startsWith('/') ? 'localhost' : query.host;
  const wanted = [host, String(query.port ?? 5432), query.database ?? '', query.user ?? ''];
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const fields = splitFields(raw);
    if (fields.length < 5) continue;
    const matches = wanted.every((value, index) => {
      const field = fields[index];
      if (field === '*' || field === value) return true;
      // libpq matches a socket connection against "localhost" and against the socket path itself.
      return index === 0 && query.host?.startsWith('/') === true && field === query.host;
    });
    if (matches) return { password: fields[4] };
  }
  return {};
}
