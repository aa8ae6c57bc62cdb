import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { DbfastError } from '../errors.js';
import { SSL_MODES, type SslMode } from './conninfo.js';
import { isUnixSocket, type DbTarget } from './target.js';

/**
 * libpq's sslmode for dbfast's own connections, so they behave like the pg_dump/pg_restore/psql
 * children that get the same settings: disable (plain), allow (plain, then TLS if refused),
 * prefer (TLS, then plain if the server has none or refuses it), require (TLS, the certificate
 * checked only when a root certificate is given, as libpq does), verify-ca (the chain), verify-full
 * (the chain and the host name). node-postgres 8 treats require/verify-ca as verify-full (and
 * warns on stderr) and cannot fall back the way prefer/allow do; so dbfast never hands it a
 * connection string and passes `ssl` itself, one attempt after another.
 */
export { SSL_MODES, type SslMode };

export interface SslPlan {
  mode: SslMode;
  /** Where the mode came from: a connection string or config key ('url'), PGSSLMODE, or libpq's default. */
  source: 'url' | 'PGSSLMODE' | 'default';
  /** True when connecting over a Unix socket, where libpq never uses TLS. */
  unixSocket: boolean;
}

/** What to try, in order: TLS options, or false for a plain connection. */
export type SslAttempts = Array<false | ConnectionOptions>;

function readPemFile(file: string, parameter: string, source: string | undefined): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new DbfastError('SSL_FILE_UNREADABLE', `cannot read ${parameter} file ${file} (from ${source ?? 'default'}): ${(error as Error).message}`, {
      hint: `Fix the ${parameter} path in ${source ?? 'the URL'}.`,
      cause: error,
    });
  }
}

function planSource(source: string | undefined): SslPlan['source'] {
  if (source === undefined || source === 'default') return 'default';
  return source === 'PGSSLMODE' || source === 'PGREQUIRESSL' ? 'PGSSLMODE' : 'url';
}

/** The sslmode in effect and where it came from (for reports). */
export function sslPlan(target: DbTarget): SslPlan {
  const { settings } = target;
  return { mode: settings.sslmode, source: planSource(settings.sources.sslmode), unixSocket: isUnixSocket(settings) };
}

/** The connection attempts sslmode asks for, from the resolved settings (reads the certificate files; no environment). */
export function sslAttempts(target: DbTarget): SslAttempts {
  const { settings } = target;
  const mode = settings.sslmode;
  if (isUnixSocket(settings) || mode === 'disable') return [false];

  const tls: ConnectionOptions = {};
  const root = settings.sslrootcert;
  const verify = mode === 'verify-ca' || mode === 'verify-full';
  if (verify && root === undefined) {
    // libpq refuses to connect rather than trust nothing in particular.
    throw new DbfastError('CONNECTION_FAILED', `cannot connect to ${settings.host}:${settings.port}: sslmode=${mode} (from ${settings.sources.sslmode}) needs a root certificate, and none is given (sslrootcert, PGSSLROOTCERT, ~/.postgresql/root.crt)`, {
      hint: 'Give the CA that signed the server certificate with sslrootcert=/path/to/ca.crt in the URL (or PGSSLROOTCERT), or use sslmode=require to encrypt without verifying.',
    });
  }
  // sslrootcert=system: the operating system's CAs, which is what Node uses without `ca`.
  if (root !== undefined && root !== 'system') tls.ca = readPemFile(root, 'sslrootcert', settings.sources.sslrootcert);
  if (settings.sslcert !== undefined && settings.sslkey !== undefined) {
    tls.cert = readPemFile(settings.sslcert, 'sslcert', settings.sources.sslcert);
    tls.key = readPemFile(settings.sslkey, 'sslkey', settings.sources.sslkey);
    if (target.sslPassword !== undefined) tls.passphrase = target.sslPassword;
  }
  if (mode === 'verify-full') tls.rejectUnauthorized = true;
  else if (mode === 'verify-ca' || (mode === 'require' && root !== undefined)) {
    // verify-ca checks the chain but not the host name; so does require once a root certificate exists.
    tls.rejectUnauthorized = true;
    tls.checkServerIdentity = () => undefined;
  } else tls.rejectUnauthorized = false;

  if (mode === 'prefer') return [tls, false];
  if (mode === 'allow') return [false, tls];
  return [tls];
}

/**
 * Whether a failed attempt may be retried the other way, as libpq does: prefer falls back to a
 * plain connection when the server has no TLS or its pg_hba.conf refuses the encrypted one
 * (28000); allow tries TLS when the plain connection is refused.
 */
export function sslFallbackAllowed(mode: SslMode, error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  if (mode === 'prefer') return /does not support SSL/i.test(message) || code === '28000';
  if (mode === 'allow') return code === '28000';
  return false;
}
