import pg from 'pg';
import { DbfastError } from '../errors.js';
import { trackFailures } from '../failure/client.js';
import { explainPermission } from '../failure/permission.js';
import { lookupPgpass, type PgpassResult } from './pgpass.js';
import { sslAttempts, sslFallbackAllowed } from './ssl.js';
import { describeSettings, maskUrl, serverLabel, targetSecrets, type DbTarget } from './target.js';

export type PgClient = pg.Client;

export interface ConnectOptions {
  applicationName?: string;
  connectTimeoutMs?: number;
  /**
   * The session runs the user's SQL files (a template build, a migration, a group's SQL): it
   * keeps the database's and role's settings, as psql would. Every other session is dbfast's own
   * and starts with OWN_SESSION_SETTINGS.
   */
  runsUserSql?: boolean;
}

/**
 * What dbfast's own sessions (admin, catalog reads, history, dump clones, pools, checks, backups,
 * the replace pipeline) set at connect time, whatever the database or role says: a template may
 * give every copy `statement_timeout = 1` or `default_transaction_read_only = on` for the
 * application, and dbfast's own work must not be canceled or refused by them. Sent as the
 * `options` startup parameter, so they hold from the first statement without a round trip.
 * Locks: dbfast sets lock_timeout itself where it waits for one (lock-wait.ts).
 */
export const OWN_SESSION_SETTINGS: Readonly<Record<string, string>> = {
  statement_timeout: '0',
  lock_timeout: '0',
  idle_in_transaction_session_timeout: '0',
  default_transaction_read_only: 'off',
};

/**
 * The `options` startup parameter of a session: dbfast's own settings first, then whatever
 * the connection string or PGOPTIONS gives (the user's explicit choice wins, as with libpq).
 */
export function sessionOptions(given: string | undefined, runsUserSql: boolean): string | undefined {
  if (runsUserSql) return given;
  const own = Object.entries(OWN_SESSION_SETTINGS).map(([name, value]) => `-c ${name}=${value}`).join(' ');
  return given === undefined || given.trim() === '' ? own : `${own} ${given}`;
}

/** What went wrong with the password, for the error's message and hint. */
interface PasswordState {
  /** The server asked for a password and none was found anywhere. */
  missing: boolean;
  /** Where the password that was sent came from. */
  source?: string | undefined;
  pgpassIgnored?: string | undefined;
}

/**
 * Opens a connection with exactly the target's resolved settings (see connection.ts): node-postgres
 * gets host, port, user, database and `ssl` spelled out, so its own defaults (process.env.USER,
 * its sslmode rules, its deprecated ~/.pgpass lookup) never apply.
 */
export async function connect(target: DbTarget, options: ConnectOptions = {}): Promise<pg.Client> {
  const { settings } = target;
  const attempts = sslAttempts(target);
  const password = passwordSource(target);
  const timeoutMs = settings.connectTimeoutSeconds ? settings.connectTimeoutSeconds * 1000 : (options.connectTimeoutMs ?? 10_000);
  const sessionSettings = sessionOptions(settings.options, options.runsUserSql === true);
  for (const [index, ssl] of attempts.entries()) {
    const client = new pg.Client({
      host: settings.host,
      port: settings.port,
      user: settings.user,
      database: settings.dbname,
      ...(sessionSettings === undefined ? {} : { options: sessionSettings }),
      application_name: settings.applicationName ?? options.applicationName ?? 'dbfast',
      password: password.get,
      ssl,
      connectionTimeoutMillis: timeoutMs,
    });
    // An idle client whose server goes away emits 'error'; without a listener that would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      // Failed queries carry role, database and statement, for errors that say what to grant to whom.
      return trackFailures(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      if (index < attempts.length - 1 && sslFallbackAllowed(settings.sslmode, error)) continue;
      throw connectionError(target, error, password.state());
    }
  }
  throw new DbfastError('CONNECTION_FAILED', `cannot connect to ${maskUrl(target.url)}`);
}

/**
 * The password, asked only when the server wants one: the target's own (password_env, the URL,
 * PGPASSWORD, resolved already), then the password file, looked up for the database actually
 * connected to, as libpq does.
 */
function passwordSource(target: DbTarget): { get: string | (() => Promise<string>); state: () => PasswordState } {
  if (target.password !== undefined) {
    const source = target.settings.sources.password;
    return { get: target.password, state: () => ({ missing: false, source }) };
  }
  let asked = false;
  let found: PgpassResult = {};
  const get = async (): Promise<string> => {
    asked = true;
    found = lookupPgpass(target.settings);
    // Like libpq's "no password supplied": fail here rather than send an empty password.
    if (found.password === undefined) throw new Error('no password supplied');
    return found.password;
  };
  return {
    get,
    state: () => ({
      missing: asked && found.password === undefined,
      source: found.password === undefined ? undefined : `${target.settings.passfile} (${target.settings.sources.passfile ?? 'passfile'})`,
      pgpassIgnored: found.ignoredReason,
    }),
  };
}

/** Says where each setting came from, so the user knows what to change (never "the config" when it was PGHOST). */
function hintFor(target: DbTarget, error: unknown, password: Partial<PasswordState>): { text?: string; hint: string } {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const { settings } = target;
  const where = describeSettings(target);
  const sslSource = settings.sources.sslmode ?? 'default';
  if (password.missing) {
    return {
      text: `the server asks for a password and none was found for user "${settings.user}" (password_env, the URL, PGPASSWORD, ${settings.passfile})`,
      hint: password.pgpassIgnored ?? `Set password_env (the name of a variable holding the password), PGPASSWORD, or add a line to ${settings.passfile}. Settings: ${where}.`,
    };
  }
  if (code === '28P01' || /password authentication failed/i.test(message)) {
    return { hint: `The password was refused for user "${settings.user}" (from ${settings.sources.user ?? 'default'}); it came from ${password.source ?? 'nowhere'}: fix it there.` };
  }
  if (code === '42501') {
    // No CONNECT on the database: the hint names the GRANT.
    const explained = explainPermission(`${message}\n${(error as { detail?: string }).detail ?? ''}`, { user: settings.user, statement: 'CONNECT' });
    if (explained) return { hint: explained.hint };
  }
  if (code === '3D000') {
    return { hint: `Database "${settings.dbname}" (from ${settings.sources.dbname ?? 'default'}) does not exist: create it, or fix the database name there.` };
  }
  if (code === '28000' && /role .* does not exist/i.test(message)) {
    return { hint: `User "${settings.user}" comes from ${settings.sources.user ?? 'default'}: name an existing role there (or set PGUSER).` };
  }
  if (code === '28000') {
    return { hint: `The server's pg_hba.conf refuses this connection (sslmode=${settings.sslmode} from ${sslSource}). Settings: ${where}.` };
  }
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT') {
    return { hint: `Nothing is listening at ${serverLabel(settings)}: start PostgreSQL or fix the host/port. Settings: ${where}.` };
  }
  if (/bad decrypt|bad password read|ERR_OSSL_BAD_DECRYPT|ERR_OSSL_PEM|private key/i.test(`${message} ${code ?? ''}`)) {
    const passphrase = settings.sources.sslpassword ? `sslpassword (from ${settings.sources.sslpassword})` : 'sslpassword (none is given, and the key is encrypted)';
    return { hint: `The client key ${settings.sslkey ?? ''} (from ${settings.sources.sslkey ?? 'default'}) could not be read: check ${passphrase}.` };
  }
  if (/does not support SSL/i.test(message)) {
    return { hint: `The server does not accept TLS but sslmode=${settings.sslmode} (from ${sslSource}) demands it: enable ssl on the server, or use sslmode=prefer (or disable).` };
  }
  if (/certificate|self[- ]signed|altname|unable to verify/i.test(message) || /^(ERR_TLS|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|CERT_)/.test(code ?? '')) {
    return { hint: `The server's certificate did not pass sslmode=${settings.sslmode} (from ${sslSource}): give the CA with sslrootcert=/path/to/ca.crt, or use sslmode=require to encrypt without verifying.` };
  }
  return { hint: `Check that the server is running and the settings are right: ${where}.` };
}

export function connectionError(target: DbTarget, error: unknown, password: Partial<PasswordState> = {}): DbfastError {
  const message = error instanceof Error ? error.message : String(error);
  const { text, hint } = hintFor(target, error, password);
  return new DbfastError('CONNECTION_FAILED', `cannot connect to ${maskUrl(target.url)}: ${scrub(text ?? message, target)}`, {
    hint,
    cause: error,
    details: { settings: Object.fromEntries(Object.entries(target.settings.sources)) },
  });
}

/** Removes every secret of the target from a message, in case a driver or a tool echoes it. */
export function scrub(message: string, target: DbTarget): string {
  let text = maskUrl(message);
  for (const secret of targetSecrets(target)) text = text.split(secret).join('***');
  return text;
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
