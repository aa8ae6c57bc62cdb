import type pg from 'pg';
import { FILE_COPY_LOCK_KEY } from './names.js';

/**
 * Runs a CREATE DATABASE, one FILE_COPY clone at a time per server: each forces two
 * checkpoints, and several at once make every one of them slower (WAL_LOG clones run freely).
 * The lock is a session lock in the admin database, shared with the pool's own clones.
 */
export async function withCloneThrottle<T>(client: pg.Client, strategy: string | undefined, clone: () => Promise<T>): Promise<T> {
  if (strategy !== 'file_copy') return clone();
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [FILE_COPY_LOCK_KEY]);
  try {
    return await clone();
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [FILE_COPY_LOCK_KEY]).catch(() => undefined);
  }
}
