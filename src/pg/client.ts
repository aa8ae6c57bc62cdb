import pg from 'pg';
import { DbfastError } from '../errors.js';
import { maskUrl, type DbTarget } from './target.js';

export type PgClient = pg.Client;

export interface ConnectOptions {
  applicationName?: string;
  connectTimeoutMs?: number;
}

export async function connect(target: DbTarget, options: ConnectOptions = {}): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: target.url,
    password: target.password,
    application_name: options.applicationName ?? 'dbfast',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
  });
  // pg lets the connection string's empty password ('' when the URL has none) override the
  // explicit one, so a password_env password would never be sent: set it after parsing.
  if (target.password !== undefined) client.password = target.password;
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(target, error);
  }
  return client;
}

export function connectionError(target: DbTarget, error: unknown): DbfastError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  let hint = 'Check that the server is running and the URL, user and password are right.';
  if (code === '28P01' || /password authentication failed/i.test(message)) {
    hint = 'The password was refused: check password_env (or the URL, or ~/.pgpass) for this database.';
  } else if (code === '3D000') {
    hint = 'The database does not exist: create it, or point the config at one that does.';
  } else if (code === 'ECONNREFUSED' || code === 'ENOENT') {
    hint = 'Nothing is listening there: start PostgreSQL or fix host/port in the config.';
  }
  return new DbfastError('CONNECTION_FAILED', `cannot connect to ${maskUrl(target.url)}: ${scrub(message, target)}`, {
    hint,
    cause: error,
  });
}

/** Removes the password from a message, in case a driver echoes it. */
export function scrub(message: string, target: DbTarget): string {
  return target.password ? message.split(target.password).join('***') : message;
}

export async function withClient<T>(target: DbTarget, fn: (client: pg.Client) => Promise<T>, options?: ConnectOptions): Promise<T> {
  const client = await connect(target, options);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function withTransaction<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Server version as a number, e.g. 150004 for 15.4. */
export async function serverVersionNum(client: pg.Client): Promise<number> {
  const result = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
  return Number(result.rows[0]?.v);
}

export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return (result.rowCount ?? 0) > 0;
}
