import type pg from 'pg';
import { registerCleanup } from '../cleanup.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { dropDatabaseIfExists } from '../pg/catalog.js';
import { advisoryUnlock, tryAdvisoryLock } from '../pg/lock.js';
import { quoteIdent } from '../pg/quote.js';

/*
 * Scratch databases (a backup's restore test) live for one command. Their names say they are
 * dbfast's, and the process that made one holds an advisory lock named after it for as long as
 * it lives: a scratch database whose lock is free belongs to a process that was killed, and the
 * next command on that server drops it.
 */

const SCRATCH_PREFIX = 'dbfast_verify_';
const SCRATCH_NAME = /^dbfast_verify_\d{8}t\d{6}z_[0-9a-f]{4}_[0-9a-f]{4}$/;

function scratchLockKey(name: string): string {
  return `dbfast:scratch:${name}`;
}

/** The scratch database name for a restore test of backup `id` (`dbfast_verify_<id>_<hex>`). */
export function scratchName(backupId: string, hex: string): string {
  return `${SCRATCH_PREFIX}${backupId.toLowerCase().replace('-', '_')}_${hex}`;
}

/** Drops the scratch databases of killed processes on `client`'s server; returns their names. */
export async function reapScratchDatabases(client: pg.Client, logger: Logger): Promise<string[]> {
  const found = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1', [SCRATCH_PREFIX]);
  const reaped: string[] = [];
  for (const { datname } of found.rows) {
    if (!SCRATCH_NAME.test(datname) || !(await tryAdvisoryLock(client, scratchLockKey(datname)))) continue;
    try {
      await dropDatabaseIfExists(client, datname);
      reaped.push(datname);
      logger.info(`dropped "${datname}", left behind by a restore test that was killed`);
    } catch (error) {
      logger.warn(`could not drop "${datname}", left behind by a restore test: ${errorMessage(error)}`);
    } finally {
      await advisoryUnlock(client, scratchLockKey(datname)).catch(() => undefined);
    }
  }
  return reaped;
}

/**
 * Creates scratch database `name` (from template0) on `client`'s server, runs `fn`, and drops it
 * whatever happens, an interrupt included. Leftovers of killed processes are dropped first.
 */
export async function withScratchDatabase<T>(client: pg.Client, name: string, logger: Logger, fn: () => Promise<T>): Promise<T> {
  await reapScratchDatabases(client, logger);
  // Held from before CREATE until after DROP: the database is never unclaimed while we live.
  await tryAdvisoryLock(client, scratchLockKey(name));
  const drop = (): Promise<unknown> => dropDatabaseIfExists(client, name);
  const unregister = registerCleanup(() => drop().then(() => undefined));
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE template0`);
    return await fn();
  } finally {
    await drop().catch((error: unknown) => logger.warn(`could not drop the scratch database "${name}": ${errorMessage(error)}`));
    unregister();
    await advisoryUnlock(client, scratchLockKey(name)).catch(() => undefined);
  }
}
