import { interrupted } from '../cleanup.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { resolveExternalConnection, type LocalConnection } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import type { DbTarget } from '../pg/target.js';
import { serverRoot } from './paths.js';
import { runningPostmaster } from './postmaster.js';
import { readState, serverTarget } from './record.js';

/**
 * The config hook: whether the local database is dbfast's managed server, and its target.
 * This module is on the path of every command, `dbfast seed` included, so it imports nothing
 * heavy; starting a server (initdb, pg_ctl, the lock) loads on first need only.
 */

/**
 * THE local server dbfast builds templates and seeds on, for every command and the library:
 * the managed server (started here on first need; `logger` hears about it) when the config
 * says so (decided at load, config/resolve.ts `usesManagedServer`), else the configured one
 * (config/targets.ts `resolveExternalConnection`, libpq's meaning). It lives here, not in
 * config/, because starting a server is this module's business and config/ sits below it.
 */
export async function resolveLocalConnection(config: DbfastConfig, env: NodeJS.ProcessEnv = config.env, logger?: Logger): Promise<LocalConnection> {
  if (config.database.server === 'managed') return { source: 'managed server', target: await managedServerTarget(env, logger) };
  return resolveExternalConnection(config, env);
}

/** The local server's target (see `resolveLocalConnection`). */
export async function localTarget(config: DbfastConfig, env: NodeJS.ProcessEnv = config.env, logger?: Logger): Promise<DbTarget> {
  return (await resolveLocalConnection(config, env, logger)).target;
}

/** The managed server as a target when it is running; undefined otherwise (nothing is started). */
export function runningManagedTarget(env: NodeJS.ProcessEnv): DbTarget | undefined {
  // The server started last is recorded with its data directory; its pid file says whether it
  // still runs. Two small reads and a signal-0, no process spawned. A stopping postmaster is
  // never handed out (it refuses connections and goes away).
  const state = readState(serverRoot(env).dir);
  if (!state) return undefined;
  const running = runningPostmaster(state.dataDir);
  return running && running.status !== 'stopping' && running.port === state.port && !env.DBFAST_SERVER_BINARIES ? serverTarget(state) : undefined;
}

/** The managed server as a target (superuser on the unix socket), started first when it is not running. */
export async function managedServerTarget(env: NodeJS.ProcessEnv = process.env, logger: Logger = silentLogger): Promise<DbTarget> {
  const running = runningManagedTarget(env);
  if (running) return running;
  const { startManagedServer } = await import('./lifecycle.js');
  const { server } = await startManagedServer({ env, logger });
  return serverTarget(server);
}

const SHUTDOWN_CODES = new Set(['57P01', '57P02', '57P03']);

/**
 * The server went away under a command (`dbfast server stop`, a crash): a DbfastError naming
 * that, instead of whatever statement or connection happened to notice it. Undefined for any
 * other error. The cause may be wrapped (a SQL file's error carries the server's as its cause).
 *
 * While an interrupt is being handled the same error is the interrupt's own doing, not the
 * server's: the clean-up ends this command's sessions (pg_terminate_backend sends 57P01, the
 * code of a shutdown too) to drop its side database, and the server keeps running. That is
 * INTERRUPTED, never SERVER_SHUT_DOWN.
 */
export function serverShutdownError(error: unknown): DbfastError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const code = (current as { code?: string }).code;
    const sqlState = (current as { details?: { sqlState?: string } }).details?.sqlState;
    if (SHUTDOWN_CODES.has(code ?? '') || SHUTDOWN_CODES.has(sqlState ?? '') || /Connection terminated unexpectedly/.test(current.message)) {
      const signal = interrupted();
      if (signal) {
        return new DbfastError('INTERRUPTED', `interrupted (${signal}); each database this command was replacing (the template, an output) holds its old or its new version, never none (a swap is all or nothing), and its side databases are dropped`, { cause: error });
      }
      return new DbfastError('SERVER_SHUT_DOWN', `the local PostgreSQL server shut down while dbfast was using it (${current.message}); nothing was changed by this command`, {
        hint: 'Run the command again: dbfast starts its managed server on first need (your own server you start yourself). What the interrupted command left is cleaned up by the next one.',
        cause: error,
      });
    }
  }
  return undefined;
}
