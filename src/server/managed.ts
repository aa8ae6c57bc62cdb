import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import { serverRoot } from './paths.js';
import { runningPostmaster } from './postmaster.js';
import { readState, serverTarget } from './record.js';

/**
 * The config hook: whether the local database is dbfast's managed server, and its target.
 * This module is on the path of every command, `dbfast seed` included, so it imports nothing
 * heavy; starting a server (initdb, pg_ctl, the lock) loads on first need only.
 */

/** The `[database]` keys that decide it (the rest, user/dbname/template_name, do not name a server). */
export interface DatabaseServerKeys {
  url?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  server?: 'managed' | 'external' | undefined;
}

/**
 * True when the local database is configured nowhere, or `[database] server = "managed"` asks
 * for the managed server. Explicit configuration wins: DBFAST_DATABASE_URL, then `[database]`
 * url/host/port; `server = "managed"` next (so DATABASE_URL, meant for the application, does not
 * override it); then DATABASE_URL, PGHOST, PGPORT. `server = "external"` never uses it.
 */
export function usesManagedServer(database: DatabaseServerKeys | undefined, env: NodeJS.ProcessEnv): boolean {
  const named = database?.url !== undefined || database?.host !== undefined || database?.port !== undefined;
  if (database?.server === 'managed' && named) {
    const keys = (['url', 'host', 'port'] as const).filter((key) => database[key] !== undefined).map((key) => `database.${key}`);
    throw new DbfastError('CONFIG_INVALID', `database.server = "managed" contradicts ${keys.join(' and ')}: the managed server has its own address`, {
      hint: 'Remove server = "managed" to use that server, or remove the address to use the managed one.',
    });
  }
  if (env.DBFAST_DATABASE_URL || named || database?.server === 'external') return false;
  if (database?.server === 'managed') return true;
  return !(env.DATABASE_URL || env.PGHOST || env.PGPORT);
}

/** The managed server as a target (superuser on the unix socket), started first when it is not running. */
export async function managedServerTarget(env: NodeJS.ProcessEnv = process.env, logger: Logger = silentLogger): Promise<DbTarget> {
  // The hot path: the server started last is recorded with its data directory; its pid file
  // says whether it still runs. Two small reads and a signal-0, no process spawned.
  const state = readState(serverRoot(env).dir);
  if (state) {
    const running = runningPostmaster(state.dataDir);
    if (running && running.port === state.port && !env.DBFAST_SERVER_BINARIES) return serverTarget(state);
  }
  const { startManagedServer } = await import('./lifecycle.js');
  const { server } = await startManagedServer({ env, logger });
  return serverTarget(server);
}

const SHUTDOWN_CODES = new Set(['57P01', '57P02', '57P03']);

/**
 * The server went away under a command (`dbfast server stop`, a crash): a DbfastError naming
 * that, instead of whatever statement or connection happened to notice it. Undefined for any
 * other error. The cause may be wrapped (a SQL file's error carries the server's as its cause).
 */
export function serverShutdownError(error: unknown): DbfastError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: string }).code;
    const sqlState = (current as { details?: { sqlState?: string } }).details?.sqlState;
    if (SHUTDOWN_CODES.has(code ?? '') || SHUTDOWN_CODES.has(sqlState ?? '') || /Connection terminated unexpectedly/.test(current.message)) {
      return new DbfastError('SERVER_SHUT_DOWN', `the local PostgreSQL server shut down while dbfast was using it (${current.message}); nothing was changed by this command`, {
        hint: 'Run the command again: dbfast starts its managed server on first need (your own server you start yourself). What the interrupted command left is cleaned up by the next one.',
        cause: error,
      });
    }
  }
  return undefined;
}
