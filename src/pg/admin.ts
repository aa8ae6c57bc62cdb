import type pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { connect } from './client.js';
import { quoteIdent, quoteLiteral } from './quote.js';
import { databaseName, withDatabase, type DbTarget } from './target.js';

/** A connection to a server's maintenance database. */
export interface AdminConnection {
  client: pg.Client;
  /** The maintenance database we are connected to (never the one being worked on). */
  database: string;
}

/**
 * Admin work (CREATE/DROP/ALTER DATABASE) runs from the maintenance database, `postgres`,
 * or `template1` when `postgres` is missing or closed to this user: never from the
 * database being replaced, which could then not be renamed.
 */
export async function connectMaintenance(target: DbTarget, avoid: string[] = []): Promise<AdminConnection> {
  let lastError: unknown;
  for (const database of ['postgres', 'template1']) {
    if (avoid.includes(database)) continue;
    try {
      const client = await connect(withDatabase(target, database), { applicationName: 'dbfast admin' });
      return { client, database };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error
    ? lastError
    : new DbfastError('CONNECTION_FAILED', `cannot connect to a maintenance database on ${databaseName(target)}'s server`);
}

/** What the connected role may do on the server. */
export interface RolePrivileges {
  user: string;
  superuser: boolean;
  createdb: boolean;
}

/** The connected role's superuser and CREATEDB attributes. */
export async function rolePrivileges(client: pg.Client): Promise<RolePrivileges> {
  const row = (
    await client.query<{ user: string; rolsuper: boolean; rolcreatedb: boolean }>(
      'SELECT current_user AS user, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user',
    )
  ).rows[0];
  return { user: row?.user ?? '', superuser: row?.rolsuper === true, createdb: row?.rolcreatedb === true || row?.rolsuper === true };
}

/** What a database is like: owner, encoding, locale (for a side database made like it). */
export interface DatabaseFacts {
  name: string;
  owner: string;
  /** The current user is the owner or has its privileges (USAGE: a NOINHERIT member does not, and may not rename it). */
  ownedByUs: boolean;
  encoding: string;
  collate: string;
  ctype: string;
  /** 'c' (libc), 'i' (ICU), 'b' (builtin); PG 15+. */
  localeProvider?: string | undefined;
  /** ICU or builtin locale (daticulocale / datlocale). */
  locale?: string | undefined;
  icuRules?: string | undefined;
}

/** The owner, encoding and locale of a database; undefined when it does not exist. */
export async function databaseFacts(client: pg.Client, name: string): Promise<DatabaseFacts | undefined> {
  // to_jsonb(d) instead of naming columns: the locale columns differ between versions.
  const row = (
    await client.query<{ d: Record<string, unknown>; owner: string; owned: boolean; encoding: string }>(
      `SELECT to_jsonb(d) AS d, pg_get_userbyid(d.datdba) AS owner, pg_has_role(current_user, d.datdba, 'USAGE') AS owned,
              pg_encoding_to_char(d.encoding) AS encoding
       FROM pg_database d WHERE d.datname = $1`,
      [name],
    )
  ).rows[0];
  if (!row) return undefined;
  const text = (key: string): string | undefined => (typeof row.d[key] === 'string' && row.d[key] !== '' ? (row.d[key] as string) : undefined);
  return {
    name,
    owner: row.owner,
    ownedByUs: row.owned,
    encoding: row.encoding,
    collate: text('datcollate') ?? 'C',
    ctype: text('datctype') ?? 'C',
    localeProvider: text('datlocprovider'),
    locale: text('datlocale') ?? text('daticulocale'),
    icuRules: text('daticurules'),
  };
}

/**
 * CREATE DATABASE with the encoding and locale of `like` (from template0, so nothing
 * added to template1 leaks in), owned by `like`'s owner when we may say so.
 */
export async function createDatabaseLike(client: pg.Client, name: string, like: DatabaseFacts | undefined, superuser: boolean): Promise<void> {
  let sql = `CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`;
  if (like) {
    sql += ` ENCODING ${quoteLiteral(like.encoding)} LC_COLLATE ${quoteLiteral(like.collate)} LC_CTYPE ${quoteLiteral(like.ctype)}`;
    if (like.localeProvider === 'i' && like.locale) {
      sql += ` LOCALE_PROVIDER icu ICU_LOCALE ${quoteLiteral(like.locale)}`;
      if (like.icuRules) sql += ` ICU_RULES ${quoteLiteral(like.icuRules)}`;
    } else if (like.localeProvider === 'b' && like.locale) {
      sql += ` LOCALE_PROVIDER builtin BUILTIN_LOCALE ${quoteLiteral(like.locale)}`;
    }
    if (superuser) sql += ` OWNER ${quoteIdent(like.owner)}`;
  }
  try {
    await client.query(sql);
  } catch (error) {
    // A lost connection or a missing privilege keeps its own code (and names what to grant).
    throw operationalError(error, { doing: `creating database "${name}"` }) ?? new DbfastError('CREATE_DATABASE_FAILED', `cannot create database "${name}": ${errorMessage(error)}`, {
      hint: 'The remote user needs CREATEDB (ALTER ROLE ... CREATEDB), or restore in place as a user without it.',
      cause: error,
    });
  }
}
