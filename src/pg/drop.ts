import pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import { quoteIdent, quoteLiteral } from './quote.js';

/**
 * Dropping a database dbfast made, whatever the user's code did to it meanwhile. A test, a seed
 * file or a migration runs as a role that may mark its database IS_TEMPLATE, leave a PREPARED
 * TRANSACTION (which outlives every session and makes PostgreSQL refuse DROP DATABASE, even
 * WITH (FORCE)), close it to connections, stream from a logical replication slot or create a
 * subscription in it. The drop is tried first (the common case costs nothing more); only when
 * PostgreSQL refuses is the database looked at and what is in the way cleared, then the drop
 * tried again. Callers make sure the database is one dbfast made: a user's database is never
 * unmarked or touched here.
 */

/** What stands between a database and DROP DATABASE, read in one query. */
interface Obstacles {
  isTemplate: boolean;
  allowConnections: boolean;
  connectionLimit: number;
  prepared: Array<{ gid: string; owner: string }>;
  /** Logical slots a walsender is streaming from right now (PostgreSQL drops inactive ones itself). */
  activeSlots: Array<{ slot: string; pid: number }>;
  subscriptions: string[];
}

const OBSTACLES_SQL = `
  SELECT d.datistemplate, d.datallowconn, d.datconnlimit,
         coalesce((SELECT json_agg(json_build_object('gid', p.gid, 'owner', p.owner) ORDER BY p.prepared)
                     FROM pg_prepared_xacts AS p WHERE p.database = d.datname), '[]') AS prepared,
         coalesce((SELECT json_agg(json_build_object('slot', s.slot_name, 'pid', s.active_pid))
                     FROM pg_replication_slots AS s WHERE s.datoid = d.oid AND s.active_pid IS NOT NULL), '[]') AS active_slots,
         coalesce((SELECT json_agg(s.subname ORDER BY s.subname) FROM pg_subscription AS s WHERE s.subdbid = d.oid), '[]') AS subscriptions
    FROM pg_database AS d WHERE d.datname = $1`;

interface ObstacleRow {
  datistemplate: boolean;
  datallowconn: boolean;
  datconnlimit: number;
  prepared: Obstacles['prepared'];
  active_slots: Obstacles['activeSlots'];
  subscriptions: string[];
}

/** What is in the way of dropping `name` (undefined: it does not exist). */
async function readObstacles(client: pg.Client, name: string): Promise<Obstacles | undefined> {
  const row = (await client.query<ObstacleRow>(OBSTACLES_SQL, [name])).rows[0];
  if (!row) return undefined;
  return {
    isTemplate: row.datistemplate,
    allowConnections: row.datallowconn,
    connectionLimit: row.datconnlimit,
    prepared: row.prepared,
    activeSlots: row.active_slots,
    subscriptions: row.subscriptions,
  };
}

function anyObstacle(obstacles: Obstacles): boolean {
  return obstacles.isTemplate || obstacles.prepared.length > 0 || obstacles.activeSlots.length > 0 || obstacles.subscriptions.length > 0;
}

/** The SQL a person would run to clear what is in the way, for the hint of a drop that still fails. */
function manualSteps(name: string, obstacles: Obstacles | undefined): string[] {
  const database = quoteIdent(name);
  const steps: string[] = [];
  if (obstacles?.isTemplate) steps.push(`ALTER DATABASE ${database} IS_TEMPLATE false;`);
  const inside = [
    ...(obstacles?.prepared ?? []).map((entry) => `ROLLBACK PREPARED ${quoteLiteral(entry.gid)};`),
    ...(obstacles?.subscriptions ?? []).map((subscription) => `ALTER SUBSCRIPTION ${quoteIdent(subscription)} DISABLE; ALTER SUBSCRIPTION ${quoteIdent(subscription)} SET (slot_name = NONE); DROP SUBSCRIPTION ${quoteIdent(subscription)};`),
  ];
  if (inside.length > 0) {
    if (obstacles && !obstacles.allowConnections) steps.push(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true;`);
    steps.push(`\\c ${database}`, ...inside, '\\c postgres');
  }
  for (const slot of obstacles?.activeSlots ?? []) steps.push(`SELECT pg_terminate_backend(${slot.pid}); -- streams from slot ${quoteLiteral(slot.slot)}`);
  steps.push(`DROP DATABASE ${database} WITH (FORCE);`);
  return steps;
}

function causeOf(obstacles: Obstacles | undefined): string {
  if (!obstacles) return '';
  const causes: string[] = [];
  if (obstacles.isTemplate) causes.push('it is marked IS_TEMPLATE');
  for (const entry of obstacles.prepared) causes.push(`prepared transaction ${quoteLiteral(entry.gid)} (owner ${entry.owner}) is open in it`);
  for (const slot of obstacles.activeSlots) causes.push(`pid ${slot.pid} streams from its logical replication slot ${quoteLiteral(slot.slot)}`);
  for (const subscription of obstacles.subscriptions) causes.push(`it has the subscription "${subscription}"`);
  return causes.length === 0 ? '' : ` (${causes.join('; ')})`;
}

/** The error of a drop that failed: which database, why, and the SQL that clears the way. */
function dropFailed(name: string, error: unknown, obstacles: Obstacles | undefined): DbfastError {
  return new DbfastError('DROP_DATABASE_FAILED', `cannot drop database "${name}"${causeOf(obstacles)}: ${errorMessage(error)}`, {
    hint: `As a superuser (or the owner of what is named), run:\n  ${manualSteps(name, obstacles).join('\n  ')}`,
    cause: error,
    details: { database: name },
  });
}

/** A session like `client` (same server, role, password, TLS and session options), on another database. */
async function connectLike(client: pg.Client, database: string): Promise<pg.Client> {
  const like = client as unknown as { host: string; port: number; user?: string; password?: string | (() => Promise<string>); ssl: pg.ClientConfig['ssl']; connectionParameters?: { options?: string; application_name?: string } };
  const sibling = new pg.Client({
    host: like.host,
    port: like.port,
    ...(like.user === undefined ? {} : { user: like.user }),
    ...(like.password === undefined ? {} : { password: like.password }),
    ssl: like.ssl,
    database,
    ...(like.connectionParameters?.options ? { options: like.connectionParameters.options } : {}),
    application_name: like.connectionParameters?.application_name ?? 'dbfast',
    connectionTimeoutMillis: 10_000,
  });
  sibling.on('error', () => undefined);
  await sibling.connect();
  return sibling;
}

/** Rolls back the prepared transactions and drops the subscriptions of `name`, from a session on it. */
async function clearInside(client: pg.Client, name: string, obstacles: Obstacles, cleared: string[]): Promise<void> {
  if (!obstacles.allowConnections) {
    await client.query(`ALTER DATABASE ${quoteIdent(name)} ALLOW_CONNECTIONS true`);
    cleared.push(`opened "${name}" to connections (ALLOW_CONNECTIONS was false)`);
  }
  // A superuser ignores CONNECTION LIMIT; any other role needs room for one session.
  if (obstacles.connectionLimit >= 0) await client.query(`ALTER DATABASE ${quoteIdent(name)} CONNECTION LIMIT -1`);
  const inside = await connectLike(client, name);
  try {
    for (const entry of obstacles.prepared) {
      await inside.query(`ROLLBACK PREPARED ${quoteLiteral(entry.gid)}`);
      cleared.push(`rolled back the prepared transaction ${quoteLiteral(entry.gid)} (owner ${entry.owner}) left in "${name}"`);
    }
    for (const subscription of obstacles.subscriptions) {
      const quoted = quoteIdent(subscription);
      // Without a slot name DROP SUBSCRIPTION does not reach out to the publisher (which may be gone).
      await inside.query(`ALTER SUBSCRIPTION ${quoted} DISABLE`);
      await inside.query(`ALTER SUBSCRIPTION ${quoted} SET (slot_name = NONE)`);
      await inside.query(`DROP SUBSCRIPTION ${quoted}`);
      cleared.push(`dropped the subscription "${subscription}" left in "${name}"`);
    }
  } finally {
    await inside.end().catch(() => undefined);
  }
}

/** Clears what is in the way; the notes say what was done, for a warning. */
async function clearObstacles(client: pg.Client, name: string, obstacles: Obstacles, cleared: string[]): Promise<void> {
  if (obstacles.isTemplate) {
    await client.query(`ALTER DATABASE ${quoteIdent(name)} IS_TEMPLATE false`);
    cleared.push(`unmarked "${name}" as a template (IS_TEMPLATE was true)`);
  }
  if (obstacles.prepared.length > 0 || obstacles.subscriptions.length > 0) await clearInside(client, name, obstacles, cleared);
  for (const slot of obstacles.activeSlots) {
    await client.query('SELECT pg_terminate_backend($1, 5000)', [slot.pid]);
    cleared.push(`ended pid ${slot.pid}, which streamed from the replication slot ${quoteLiteral(slot.slot)} of "${name}"`);
  }
}

/** How `dropMadeDatabase` drops. */
export interface DropMadeOptions {
  /** WITH (FORCE): end the sessions on it (default true). */
  force?: boolean;
  /** IF EXISTS (default true); false: a database that is gone is DATABASE_NOT_FOUND (3D000), as for a name the user gave. */
  missingOk?: boolean;
}

/**
 * Drops a database dbfast made (callers check that it is), even if the user's code marked it a
 * template, left prepared transactions or a subscription in it, closed it to connections or
 * streams from its replication slot; nothing happens when it does not exist (unless `missingOk` is
 * false). Returns what had to
 * be cleared first (empty almost always), for a warning. A drop that still fails throws
 * DROP_DATABASE_FAILED naming the database, the cause and the SQL to run.
 */
export async function dropMadeDatabase(client: pg.Client, name: string, options: DropMadeOptions = {}): Promise<string[]> {
  const statement = `DROP DATABASE ${options.missingOk === false ? '' : 'IF EXISTS '}${quoteIdent(name)}${options.force === false ? '' : ' WITH (FORCE)'}`;
  const cleared: string[] = [];
  // Each round clears what the last refusal showed; a user's session could add more meanwhile, but not forever.
  for (let round = 0; ; round++) {
    try {
      await client.query(statement);
      return cleared;
    } catch (error) {
      // Not the server's refusal (a lost connection, a permission): the caller's usual handling.
      if (!isRefusal(error)) throw error;
      const obstacles = await readObstacles(client, name).catch(() => undefined);
      if (round >= 3 || !obstacles || !anyObstacle(obstacles)) throw dropFailed(name, error, obstacles);
      try {
        await clearObstacles(client, name, obstacles, cleared);
      } catch (clearing) {
        // The server or the network went away: the caller's handling of a lost connection, unwrapped.
        if (!hasSqlState(clearing)) throw clearing;
        throw dropFailed(name, clearing, obstacles);
      }
    }
  }
}

/** An error the server sent (SQLSTATE), not one of the connection (lost, refused, timed out, shut down: classes 08 and 57P). */
function hasSqlState(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57P');
}

/**
 * PostgreSQL's refusals of DROP DATABASE that something in or on the database causes: a template
 * (42809 wrong object type), prepared transactions, slots, subscriptions, sessions (55006 object
 * in use), and 55000 (object not in prerequisite state).
 */
function isRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === '42809' || code === '55006' || code === '55000';
}
