import pg from 'pg';
import { DbfastError } from '../errors.js';
import { clientConfigFromUrl } from './client-config.js';
import { lookupPgpass, type PgpassQuery, type PgpassResult } from './pgpass.js';
import { sslFallbackAllowed, sslPlan, type SslMode } from './ssl.js';
import { maskUrl, type DbTarget } from './target.js';

export type PgClient = pg.Client;

export interface ConnectOptions {
  applicationName?: string;
  connectTimeoutMs?: number;
}

export async function connect(target: DbTarget, options: ConnectOptions = {}): Promise<pg.Client> {
  const plan = sslPlan(target.url);
  const password = passwordSource(target);
  for (const [index, ssl] of plan.attempts.entries()) {
    const client = new pg.Client({
      application_name: options.applicationName ?? 'dbfast',
      ...clientConfigFromUrl(target.url),
      password: password.get,
      ssl,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    });
    // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (index < plan.attempts.length - 1 && sslFallbackAllowed(plan.mode, error)) continue;
      throw connectionError(target, error, { passwordMissing: password.missing(), pgpassIgnored: password.pgpassIgnored(), sslMode: plan.mode });
    }
  }
  throw new DbfastError('CONNECTION_FAILED', `cannot connect to ${maskUrl(target.url)}`);
}

/**
 * libpq's password order: the target's own password (password_env or the URL), then
 * PGPASSWORD, then the password file. Asked only when the server wants a password.
 */
function passwordSource(target: DbTarget): {
  get: string | (() => Promise<string>);
  missing: () => boolean;
  pgpassIgnored: () => string | undefined;
} {
  if (target.password !== undefined) return { get: target.password, missing: () => false, pgpassIgnored: () => undefined };
  let asked = false;
  let found: PgpassResult = {};
  const get = async (...args: unknown[]): Promise<string> => {
    asked = true;
    if (process.env.PGPASSWORD) return process.env.PGPASSWORD;
    found = lookupPgpass((args[0] ?? {}) as PgpassQuery);
    // Like libpq's "no password supplied": fail here rather than send an empty password.
    if (found.password === undefined) throw new Error('no password supplied');
    return found.password;
  };
  return { get, missing: () => asked && !process.env.PGPASSWORD && found.password === undefined, pgpassIgnored: () => found.ignoredReason };
}

export interface ConnectionErrorContext {
  /** The server asked for a password and none was found anywhere. */
  passwordMissing?: boolean;
  pgpassIgnored?: string | undefined;
  sslMode?: SslMode;
}

export function connectionError(target: DbTarget, error: unknown, context: ConnectionErrorContext = {}): DbfastError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  let hint = 'Check that the server is running and the URL, user and password are right.';
  let text = message;
  if (context.passwordMissing) {
    text = 'the server asks for a password and none was found (password_env, the URL, PGPASSWORD, ~/.pgpass)';
    hint = context.pgpassIgnored ?? 'Set password_env for this database (the name of a variable holding the password), or add a line to ~/.pgpass (PGPASSFILE).';
  } else if (code === '28P01' || /password authentication failed/i.test(message)) {
    hint = 'The password was refused: check password_env (or the URL, or ~/.pgpass) for this database.';
  } else if (code === '3D000') {
    hint = 'The database does not exist: create it, or point the config at one that does.';
  } else if (code === 'ECONNREFUSED' || code === 'ENOENT') {
    hint = 'Nothing is listening there: start PostgreSQL or fix host/port in the config.';
  } else if (/does not support SSL/i.test(message)) {
    hint = `The server does not accept TLS but sslmode=${context.sslMode ?? 'require'} demands it: enable ssl on the server, or use sslmode=prefer (or disable).`;
  } else if (/certificate|self[- ]signed|altname/i.test(message) || /^(ERR_TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO)/.test(code ?? '')) {
    hint = `The server's certificate did not pass sslmode=${context.sslMode ?? 'verify-full'}: give the CA with sslrootcert=/path/to/ca.crt in the URL, or use sslmode=require to encrypt without verifying.`;
  }
  return new DbfastError('CONNECTION_FAILED', `cannot connect to ${maskUrl(target.url)}: ${scrub(text, target)}`, {
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
