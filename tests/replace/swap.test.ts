import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { connectMaintenance } from '../../src/pg/admin.js';
import { endSessions } from '../../src/pg/catalog.js';
import { swapNames } from '../../src/remote/names.js';
import { swapIn } from '../../src/replace/swap.js';
import { targetFromUrl } from '../../src/pg/target.js';
import { query, remote, uniqueName, urlFor } from '../support/db.js';
import { createRemoteAccount, trackRemoteDatabase, type RemoteAccount } from '../support/backup.js';

const clients: pg.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
});

async function adminAs(account: RemoteAccount): Promise<pg.Client> {
  const { client } = await connectMaintenance(targetFromUrl(account.url, account.password));
  clients.push(client);
  return client;
}

async function marker(database: string): Promise<string | undefined> {
  const rows = await query<{ v: string }>(urlFor(remote.adminUrl, database), 'SELECT v FROM marker').catch(() => []);
  return rows[0]?.v;
}

/** live holds marker 'old', side holds 'new', both owned by the account. */
async function pair(account: RemoteAccount): Promise<{ live: string; side: string; previous: string }> {
  const names = swapNames(account.database);
  await query(account.adminDbUrl, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('old')");
  await query(remote.adminUrl, `CREATE DATABASE "${names.side}" OWNER "${account.role}"`);
  await query(urlFor(remote.adminUrl, names.side), "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('new')");
  return names;
}

async function allowConnections(database: string): Promise<boolean | undefined> {
  const rows = await query<{ a: boolean }>(remote.adminUrl, 'SELECT datallowconn AS a FROM pg_database WHERE datname = $1', [database]);
  return rows[0]?.a;
}

describe('swapIn', () => {
  it('ends sessions and renames both in one go; the old database is kept as previous', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'bksw' });
    const names = await pair(account);
    // The application's session (same role): the swap may end it.
    const session = new pg.Client({ host: inject('remoteTcpHost'), port: inject('remoteTcpPort'), user: account.role, password: account.password, database: account.database });
    session.on('error', () => undefined);
    await session.connect();
    clients.push(session);
    const admin = await adminAs(account);
    const result = await swapIn(admin, names);
    expect(result).toEqual({ previous: names.previous, sessionsEnded: 1 });
    expect(await marker(names.live)).toBe('new');
    expect(await marker(names.previous)).toBe('old');
    await expect(session.query('SELECT 1')).rejects.toThrow();
    // A second swap replaces the older previous.
    await query(remote.adminUrl, `CREATE DATABASE "${names.side}" OWNER "${account.role}"`);
    await query(urlFor(remote.adminUrl, names.side), "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('newer')");
    await swapIn(admin, names);
    expect([await marker(names.live), await marker(names.previous)]).toEqual(['newer', 'new']);
  });

  it('renames nothing when the second rename fails', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'bksw' });
    const names = await pair(account);
    // The side belongs to someone else: renaming it fails after live was renamed (in the transaction).
    await query(remote.adminUrl, `ALTER DATABASE "${names.side}" OWNER TO postgres`);
    const admin = await adminAs(account);
    const error = await swapIn(admin, names).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SWAP_FAILED' });
    expect((error as Error).message).toMatch(/nothing was renamed: must be owner of database/);
    expect(await marker(names.live)).toBe('old');
    expect(await marker(names.side)).toBe('new');
    const existing = await query<{ datname: string }>(remote.adminUrl, 'SELECT datname FROM pg_database WHERE datname = $1', [names.previous]);
    expect(existing).toEqual([]);
  });

  it('when it must block new connections, both databases accept connections afterwards, also after a failure', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'bksw' });
    const names = await pair(account);
    const admin = await adminAs(account);
    await swapIn(admin, names, { attempts: 0 });
    expect(await marker(names.live)).toBe('new');
    expect([await allowConnections(names.live), await allowConnections(names.previous)]).toEqual([true, true]);

    // A side the account may not rename: the blocked swap fails and lets connections in again.
    await query(remote.adminUrl, `CREATE DATABASE "${names.side}" OWNER postgres`);
    await expect(swapIn(admin, names, { attempts: 0 })).rejects.toMatchObject({ code: 'SWAP_FAILED' });
    expect(await allowConnections(names.live)).toBe(true);
    expect(await marker(names.live)).toBe('new');
  });

  it('puts the side in place when there is no live database, and can drop the previous one', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'bksw' });
    const fresh = uniqueName('bksw_new');
    trackRemoteDatabase(fresh);
    const names = swapNames(fresh);
    trackRemoteDatabase(names.side);
    trackRemoteDatabase(names.previous);
    await query(remote.adminUrl, `CREATE DATABASE "${names.side}" OWNER "${account.role}"`);
    const admin = await adminAs(account);
    expect(await swapIn(admin, names)).toEqual({ previous: null, sessionsEnded: 0 });
    await query(remote.adminUrl, `CREATE DATABASE "${names.side}" OWNER "${account.role}"`);
    expect(await swapIn(admin, names, { keepPrevious: false })).toEqual({ previous: null, sessionsEnded: 0 });
    const left = await query<{ datname: string }>(remote.adminUrl, 'SELECT datname FROM pg_database WHERE datname IN ($1, $2, $3) ORDER BY 1', [
      fresh,
      names.side,
      names.previous,
    ]);
    expect(left.map((r) => r.datname)).toEqual([fresh]);
  });

  it('refuses names PostgreSQL would truncate, and refuses to swap from the database it renames', async () => {
    expect(() => swapNames('x'.repeat(50))).toThrow(/is 50 bytes, more than the 47 dbfast can replace/);
    const account = await createRemoteAccount({ createdb: true, prefix: 'bksw' });
    const names = await pair(account);
    const onLive = new pg.Client({ connectionString: account.adminDbUrl });
    await onLive.connect();
    clients.push(onLive);
    await expect(swapIn(onLive, names)).rejects.toMatchObject({ code: 'SWAP_FROM_TARGET' });
  });
});

describe('endSessions', () => {
  it('ends every client session on a database and waits until they are gone', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'bksw' });
    const sessions = await Promise.all(
      [1, 2, 3].map(async () => {
        const c = new pg.Client({ connectionString: account.adminDbUrl });
        c.on('error', () => undefined);
        await c.connect();
        clients.push(c);
        return c;
      }),
    );
    const admin = await adminAs(account);
    // The account may end only its own sessions; these are the superuser's: refused with a hint.
    await expect(endSessions(admin, account.database)).rejects.toMatchObject({ code: 'SESSIONS_BLOCKING', hint: expect.stringMatching(/pg_signal_backend/) });
    const su = new pg.Client({ connectionString: urlFor(remote.adminUrl, 'postgres') });
    await su.connect();
    clients.push(su);
    expect(await endSessions(su, account.database)).toBe(3);
    for (const s of sessions) await expect(s.query('SELECT 1')).rejects.toThrow();
  });
});
