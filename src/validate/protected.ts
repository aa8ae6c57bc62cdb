import type pg from 'pg';
import { DbfastError } from '../errors.js';
import { protectedDatabaseReason } from '../pg/system-databases.js';

/** The refusal, with what to do instead. `key` names the setting that points at the database. */
export function protectedDatabaseError(reason: string, key: string): DbfastError {
  return new DbfastError('DATABASE_PROTECTED', `${reason}: dbfast never deploys to it, restores over it or rolls it back; nothing was changed`, {
    hint: `Point ${key} at the application's own database (create it first if needed: CREATE DATABASE myapp OWNER <role>).`,
  });
}

/** Reads pg_database and throws DATABASE_PROTECTED when `name` is one dbfast must leave alone. */
export async function refuseProtectedDatabase(client: pg.Client, name: string, key: string): Promise<void> {
  const row = (await client.query<{ t: boolean }>('SELECT datistemplate AS t FROM pg_database WHERE datname = $1', [name])).rows[0];
  const reason = protectedDatabaseReason(name, row?.t === true);
  if (reason) throw protectedDatabaseError(reason, key);
}
