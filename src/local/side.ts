import type pg from 'pg';
import { registerCleanup } from '../cleanup.js';
import type { Logger } from '../logger.js';
import { databaseExists, dropDatabase, terminateBackend } from '../pg/catalog.js';
import { dropMadeDatabase } from '../pg/drop.js';
import { withClient } from '../pg/client.js';
import { advisoryUnlock, tryAdvisoryLock } from '../pg/lock.js';
import { applyDatabaseSettings, readDatabaseSettings, type DatabaseSetting } from '../pg/db-properties.js';
import { quoteIdent } from '../pg/quote.js';
import { withCloneThrottle } from '../pool/throttle.js';
import type { DbTarget } from '../pg/target.js';
import { sideLockKey, sideName, type SideKind } from './names.js';
import { isSourceInUse } from './sessions.js';
import type { ProjectOwner } from './owner.js';
import type { CloneStrategy } from './strategy.js';

/** What side database to make, from what. */
export interface SideSpec {
  /** The template the side database belongs to (its name's base). */
  base: string;
  kind: SideKind;
  owner: ProjectOwner;
  /** What to copy: template0 for a build from scratch, a template otherwise. */
  source: string;
  /** undefined: the server's default (servers before 15 have no choice). */
  strategy?: CloneStrategy | undefined;
  /** Called when the source has sessions PostgreSQL will not copy past (55006); may clear them once. */
  onSourceInUse?: (() => Promise<void>) | undefined;
  /**
   * The source's per-database settings (its manifest's), which CREATE DATABASE ... TEMPLATE does
   * not copy: given to the new database right after it is made. Undefined: read from the source.
   */
  settings?: readonly DatabaseSetting[] | undefined;
}

/** A side database this process made and is working on. */
export interface SideDatabase {
  name: string;
  /** Time of the CREATE DATABASE statement alone. */
  createMs: number;
  /**
   * Lets go of the name lock. Call it once the database is renamed away or dropped; until then
   * a crash leaves a database that the next command recognises as a leftover and reaps.
   */
  release(): Promise<void>;
}

const ATTEMPTS = 5;

function isDuplicateDatabase(error: unknown): boolean {
  return (error as { code?: string }).code === '42P04';
}

/** On Ctrl-C: end our own backend if it is still in CREATE DATABASE, then drop whatever it made. */
function interruptCleanup(target: DbTarget, client: pg.Client, name: string): () => Promise<void> {
  return () => endAndDrop(target, client, [name]);
}

/** A copy of a template gets the template's settings (layers, clones, scratch copies, spares alike); template0 has none. */
async function giveSettings(client: pg.Client, name: string, spec: SideSpec): Promise<void> {
  if (spec.source === 'template0' && spec.settings === undefined) return;
  try {
    await applyDatabaseSettings(client, name, spec.settings ?? (await readDatabaseSettings(client, spec.source)));
  } catch (error) {
    await dropDatabase(client, name).catch(() => undefined);
    throw error;
  }
}

/**
 * CREATE DATABASE under a fresh side name, holding that name's advisory lock on `client`
 * (which must stay open while the database is in use). The database is recognisable as this
 * project's from the first moment, by its name; the lock tells a reaper it is still being worked
 * on. An interrupt while this runs ends the CREATE and drops what it made.
 */
export async function createSideDatabase(client: pg.Client, target: DbTarget, spec: SideSpec): Promise<SideDatabase> {
  const strategy = spec.strategy ? ` STRATEGY ${spec.strategy.toUpperCase()}` : '';
  let sourceCleared = false;
  for (let attempt = 1; ; attempt++) {
    const name = sideName(spec.base, spec.kind, spec.owner);
    if (!(await tryAdvisoryLock(client, sideLockKey(name)))) continue;
    const release = (): Promise<void> => advisoryUnlock(client, sideLockKey(name)).catch(() => undefined);
    const unregister = registerCleanup(interruptCleanup(target, client, name));
    try {
      const started = performance.now();
      // FILE_COPY clones one at a time per server, shared with the pool's (each forces two checkpoints).
      await withCloneThrottle(client, spec.strategy, () => client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(spec.source)}${strategy}`));
      const createMs = performance.now() - started;
      await giveSettings(client, name, spec);
      return { name, createMs, release };
    } catch (error) {
      await release();
      const retry = attempt < ATTEMPTS && (isDuplicateDatabase(error) || (isSourceInUse(error) && spec.onSourceInUse !== undefined && !sourceCleared));
      if (!retry) throw error;
      if (isSourceInUse(error)) {
        sourceCleared = true;
        await spec.onSourceInUse?.();
      }
    } finally {
      unregister();
    }
  }
}

/**
 * Drops a side database this process made, quietly: on failure the database keeps its side name
 * and its lock is released, so the next command's reaper drops it.
 */
export async function dropSideDatabase(target: DbTarget, client: pg.Client | undefined, name: string, logger: Logger): Promise<void> {
  try {
    if (client) await dropDatabase(client, name);
    else await withClient(target, (fresh) => dropDatabase(fresh, name), { applicationName: 'dbfast cleanup' });
  } catch (error) {
    logger.debug(`could not drop ${name} now (a later command will): ${(error as Error).message}`);
  }
}

/** Replaced databases (renamed aside) this process left to the background clean-up, each with the undo of its interrupt cleanup. */
const handedOver = new Map<string, () => void>();

/**
 * On an interrupt: ends `client`'s backend and waits until it has exited, so a statement it was
 * running (a swap) has committed or rolled back by the time the names are looked at.
 */
async function endOwnBackend(fresh: pg.Client, client: pg.Client): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (!pid) return;
  // Ending its backend makes the connection emit 'error'; a pooled client has no listener for it.
  client.on('error', () => undefined);
  await terminateBackend(fresh, pid);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && ((await fresh.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount ?? 0) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Drops a side database if it is there (a DROP under way elsewhere is waited for), whatever a
 * user's code did to it (see dropMadeDatabase); one that is gone meanwhile is no error.
 */
async function dropIfThere(fresh: pg.Client, name: string): Promise<void> {
  try {
    await dropMadeDatabase(fresh, name);
  } catch (error) {
    if (await databaseExists(fresh, name)) throw error;
  }
}

/**
 * On an interrupt: ends `client`'s backend and waits for it to exit (what it ran has committed or
 * rolled back, entirely), then drops each name that is there, on a fresh connection.
 */
export function endAndDrop(target: DbTarget, client: pg.Client, names: readonly string[]): Promise<void> {
  return withClient(
    target,
    async (fresh) => {
      await endOwnBackend(fresh, client);
      for (const name of names) await dropIfThere(fresh, name);
    },
    { applicationName: 'dbfast cleanup' },
  );
}

/**
 * A database dbfast renames aside (a replaced template or clone) is left to the background
 * clean-up, which a Ctrl-C may cut short (or come before): until `settleHandOvers`, an interrupt
 * ends `client`'s backend (the one running the swap: it then committed or not, entirely), drops
 * the database on a fresh connection and waits for that. Registered before the swap is sent;
 * returns the undo, for a swap that failed.
 */
export function handOver(target: DbTarget, client: pg.Client, name: string): () => void {
  const unregister = registerCleanup(() => endAndDrop(target, client, [name]));
  handedOver.set(name, unregister);
  return () => {
    unregister();
    handedOver.delete(name);
  };
}

/** The background clean-up has run (or a worker has the job): interrupts no longer drop what was handed over. */
export function settleHandOvers(): void {
  for (const unregister of handedOver.values()) unregister();
  handedOver.clear();
}
