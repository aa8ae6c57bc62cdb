import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { DbfastError } from '../errors.js';

/**
 * libpq's sslmode for dbfast's own connections, so they behave like the pg_dump/pg_restore/psql
 * children that get the same URL. node-postgres 8 treats require/verify-ca as verify-full
 * (and warns on stderr), and cannot fall back from TLS to plain the way `prefer` does; so
 * dbfast never hands node-postgres the URL (see client-config.ts) and passes `ssl` itself,
 * one attempt after another.
 */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface SslPlan {
  mode: SslMode;
  /** Where the mode came from. */
  source: 'url' | 'PGSSLMODE' | 'default';
  /** True when connecting over a Unix socket, where libpq never uses TLS. */
  unixSocket: boolean;
  /** What to try, in order: TLS options, or false for a plain connection. */
  attempts: Array<false | ConnectionOptions>;
}

function readPemFile(file: string, parameter: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new DbfastError('SSL_FILE_UNREADABLE', `cannot read ${parameter} file ${file}: ${(error as Error).message}`, {
      hint: `Fix the ${parameter} path in the URL (or the PG${parameter.toUpperCase()} variable).`,
      cause: error,
    });
  }
}

/** The URL parameter, else the PG* variable, else libpq's default file under ~/.postgresql when it exists. */
function pemSetting(url: URL, parameter: string, env: NodeJS.ProcessEnv, defaultName: string): { file?: string; explicit: boolean } {
  const given = url.searchParams.get(parameter) ?? env[`PG${parameter.toUpperCase()}`];
  if (given) return { file: given, explicit: true };
  const fallback = path.join(env.HOME || os.homedir(), '.postgresql', defaultName);
  return existsSync(fallback) ? { file: fallback, explicit: false } : { explicit: false };
}

function isUnixSocket(url: URL, env: NodeJS.ProcessEnv): boolean {
  const hostParam = url.searchParams.get('host');
  if (hostParam) return hostParam.startsWith('/');
  if (url.hostname) return false;
  return (env.PGHOST ?? '').startsWith('/');
}

export function sslPlan(urlText: string, env: NodeJS.ProcessEnv = process.env): SslPlan {
  const url = new URL(urlText);
  const fromUrl = url.searchParams.get('sslmode');
  const raw = fromUrl ?? env.PGSSLMODE;
  const source: SslPlan['source'] = fromUrl ? 'url' : env.PGSSLMODE ? 'PGSSLMODE' : 'default';
  const mode = (raw ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(mode)) {
    throw new DbfastError('SSLMODE_INVALID', `sslmode=${raw} (from ${source === 'url' ? 'the URL' : 'PGSSLMODE'}) is not one of ${SSL_MODES.join(', ')}`, {
      hint: 'Use sslmode=require to encrypt, verify-full to also check the certificate, disable for none.',
    });
  }
  const unixSocket = isUnixSocket(url, env);
  const plan = { mode, source, unixSocket };
  if (unixSocket || mode === 'disable') return { ...plan, attempts: [false] };

  const tls: ConnectionOptions = {};
  const root = pemSetting(url, 'sslrootcert', env, 'root.crt');
  // sslrootcert=system: the operating system's CAs, which is what Node uses without `ca`.
  if (root.file && root.file !== 'system') tls.ca = readPemFile(root.file, 'sslrootcert');
  const cert = pemSetting(url, 'sslcert', env, 'postgresql.crt');
  const key = pemSetting(url, 'sslkey', env, 'postgresql.key');
  if (cert.file && key.file) {
    tls.cert = readPemFile(cert.file, 'sslcert');
    tls.key = readPemFile(key.file, 'sslkey');
  }
  const verifyCa = mode === 'verify-ca' || (mode === 'require' && root.file !== undefined);
  if (mode === 'verify-full') tls.rejectUnauthorized = true;
  else if (verifyCa) {
    tls.rejectUnauthorized = true;
    // verify-ca checks the chain but not the host name.
    tls.checkServerIdentity = () => undefined;
  } else tls.rejectUnauthorized = false;

  if (mode === 'prefer') return { ...plan, attempts: [tls, false] };
  if (mode === 'allow') return { ...plan, attempts: [false, tls] };
  return { ...plan, attempts: [tls] };
}

/** Whether a failed attempt may be retried the other way (prefer: no TLS on the server; allow: plain refused). */
export function sslFallbackAllowed(mode: SslMode, error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  if (mode === 'prefer') return /does not support SSL/i.test(message);
  if (mode === 'allow') return (error as { code?: string }).code === '28000';
  return false;
}
