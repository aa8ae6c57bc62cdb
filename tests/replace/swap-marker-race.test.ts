import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isDbfastError } from '../../src/errors.js';
import { connectMaintenance } from '../../src/pg/admin.js';
import { targetFromUrl } from '../../src/pg/target.js';
import { swapNames } from '../../src/remote/names.js';
import { previousMarker } from '../../src/replace/leftover.js';
import { swapIn } from '../../src/replace/swap.js';
import { query, remote, urlFor } from '../support/db.js';
import { createRemoteAccount, type RemoteAccount } from '../support/backup.js';
import { renameWaitsForLock, waitUntil } from '../support/interrupt.js';

const clients: pg.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
});

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}

async function marker(database: string): Promise<string | null> {
  const rows = await query<{ v: string }>(urlFor(remote.adminUrl, database), 'SELECT v FROM marker').catch(() => []);
  return rows[0]?.v ?? null;
}

async function databaseWith(name: string, account: RemoteAccount, value: string): Promise<void> {
  await query(remote.adminUrl, `CREATE DATABASE "${name}" OWNER "${account.role}"`);
  await query(urlFor(remote.adminUrl, name), 'CREATE TABLE marker (v text)');
  await query(urlFor(remote.adminUrl, name), 'INSERT INTO marker VALUES ($1)', [value]);
}

describe('swapIn reads the previous copy\'s marker inside its rename transaction', () => {
  it('a previous copy that stops being dbfast\'s while the swap waits for its lock is refused: nothing renamed, nothing dropped', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'swrace' });
    const names = swapNames(account.database);
    await query(account.adminDbUrl, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('live')");
    await databaseWith(names.side, account, 'new');
    await databaseWith(names.previous, account, 'users');
    await query(remote.adminUrl, `COMMENT ON DATABASE "${names.previous}" IS '${previousMarker(names.previous).replaceAll("'", "''")}'`);
    // Somebody takes the previous name's database over (a comment of their own), in a transaction
    // that holds its lock: the swap, past any check before its transaction, waits to rename it.
    const holder = await connect(remote.adminUrl);
    await holder.query('BEGIN');
    await holder.query(`COMMENT ON DATABASE "${names.previous}" IS 'mine now'`);
    const { client: admin } = await connectMaintenance(targetFromUrl(account.url, account.password));
    clients.push(admin);
    const swapping = swapIn(admin, names).then(
      () => null,
      (error: unknown) => error,
    );
    await waitUntil('the swap waits to rename the previous copy', () => renameWaitsForLock(names.previous));
    await holder.query('COMMIT');
    const error = await swapping;
    expect(isDbfastError(error) && error.code, String(error)).toBe('SIDE_NAME_TAKEN');
    expect([await marker(names.live), await marker(names.side), await marker(names.previous)]).toEqual(['live', 'new', 'users']);
  });
});
