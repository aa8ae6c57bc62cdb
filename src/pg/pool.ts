import pg from 'pg';
import { connectionError } from './client.js';
import type { DbTarget } from './target.js';

/**
 * Idle admin connections kept between seeds in one process. A test suite that seeds a database
 * per test file would otherwise pay a new connection (several ms, a large part of a small
 * template's clone time) every time. Idle connections never keep the process alive
 * (allowExitOnIdle) and close after a few seconds.
 */
const pools = new Map<string, pg.Pool>();

function poolFor(target: DbTarget): pg.Pool {
  const key = `${target.url}\0${target.password ?? ''}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new pg.Pool({
      connectionString: target.url,
      password: target.password,
      application_name: 'dbfast',
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 5_000,
      allowExitOnIdle: true,
      max: 20,
    });
    // An idle client whose server goes away emits 'error' on the pool; the next seed connects anew.
    pool.on('error', () => undefined);
    pools.set(key, pool);
  }
  return pool;
}

export interface PooledClient {
  client: pg.Client;
  /** Back to the pool; with an error the connection is closed instead (its session state is unknown). */
  release(error?: unknown): void;
}

export async function acquire(target: DbTarget): Promise<PooledClient> {
  let client: pg.PoolClient;
  try {
    client = await poolFor(target).connect();
  } catch (error) {
    throw connectionError(target, error);
  }
  // A checked-out client has no 'error' listener of the pool's: a server that ends the connection
  // (a shutdown) would crash the process instead of failing the query in flight.
  const ignore = (): void => undefined;
  client.on('error', ignore);
  return {
    client: client as unknown as pg.Client,
    release: (error?: unknown) => {
      client.removeListener('error', ignore);
      client.release(error === undefined ? undefined : true);
    },
  };
}
