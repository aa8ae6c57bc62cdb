import type pg from 'pg';
import { endSessions } from './swap.js';
import { quoteIdent } from '../pg/quote.js';

/**
 * Exchanges the names of two databases in one transaction (through a third, temporary name),
 * so the live name always points at one complete database. Used to roll back to the kept
 * previous database, and to swap back when checks after a deploy's swap fail.
 */
export async function exchangeDatabases(client: pg.Client, live: string, other: string, parking: string): Promise<void> {
  await endSessions(client, live);
  await endSessions(client, other);
  await client.query('BEGIN');
  try {
    await client.query(`ALTER DATABASE ${quoteIdent(live)} RENAME TO ${quoteIdent(parking)}`);
    await client.query(`ALTER DATABASE ${quoteIdent(other)} RENAME TO ${quoteIdent(live)}`);
    await client.query(`ALTER DATABASE ${quoteIdent(parking)} RENAME TO ${quoteIdent(other)}`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
