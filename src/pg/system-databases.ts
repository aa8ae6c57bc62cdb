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
