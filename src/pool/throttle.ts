import type pg from 'pg';
import { withQueuedAdvisoryLock } from '../pg/lock.js';
import { FILE_COPY_LOCK_KEY } from './names.js';

/**
 * Runs a CREATE DATABASE, one FILE_COPY clone at a time per server: each forces two
 * checkpoints, and several at once make every one of them slower (WAL_LOG clones run freely).
 * The lock is a session lock in the admin database, shared with the pool's own clones, waited
 * for in the server's queue (clones come out in the order they asked).
 */
export async function withCloneThrottle<T>(client: pg.Client, strategy: string | undefined, clone: () => Promise<T>): Promise<T> {
  if (strategy !== 'file_copy') return clone();
  return withQueuedAdvisoryLock(client, FILE_COPY_LOCK_KEY, clone);
}
