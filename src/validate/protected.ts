import type pg from 'pg';
import { DbfastError } from '../errors.js';

/**
 * PostgreSQL's own databases: template0 and template1 (every CREATE DATABASE copies one of
 * them) and `postgres`, the maintenance database tools and dbfast itself connect to for admin
 * work. Replacing or writing into them would spread an application's tables to every new
 * database, or take away the place to work from.
 */
export const SYSTEM_DATABASES: ReadonlySet<string> = new Set(['template0', 'template1', 'postgres']);

/**
 * Why `name` must never be a deploy or restore target, or undefined when it may be.
 * `isTemplate` is pg_database.datistemplate when known (any database marked as a template
 * is copied by CREATE DATABASE ... TEMPLATE, so it is refused too).
 */
export function protectedDatabaseReason(name: string, isTemplate = false): string | undefined {
  if (name === 'template0' || name === 'template1') {
    return `"${name}" is a template database of PostgreSQL's own: every new database on the server is copied from it`;
  }
  if (name === 'postgres') return `"postgres" is the server's maintenance database, where dbfast and other tools connect for admin work`;
  if (isTemplate) return `"${name}" is marked as a template database (datistemplate): databases created from it would get whatever dbfast puts there`;
  return undefined;
}

/** The refusal, with what to do instead. `key` names the setting that points at the database. */
export function protectedDatabaseError(reason: string, key: string): DbfastError {
  return new DbfastError('DATABASE_PROTECTED', `refusing to deploy to or restore over ${reason}`, {
    hint: `Point ${key} at the application's own database (create it first if needed: CREATE DATABASE myapp OWNER <role>).`,
  });
}

/** Reads pg_database and throws DATABASE_PROTECTED when `name` is one dbfast must leave alone. */
export async function refuseProtectedDatabase(client: pg.Client, name: string, key: string): Promise<void> {
  const row = (await client.query<{ t: boolean }>('SELECT datistemplate AS t FROM pg_database WHERE datname = $1', [name])).rows[0];
  const reason = protectedDatabaseReason(name, row?.t === true);
  if (reason) throw protectedDatabaseError(reason, key);
}
