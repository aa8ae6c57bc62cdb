import type pg from 'pg';
import { connect } from './client.js';
import type { DbTarget } from './target.js';

/**
 * Idle admin connections kept between seeds in one process. A test suite that seeds a database
 * per test file would otherwise pay a new connection (several ms, a large part of a small
 * template's clone time) every time. Connections are made by `connect`, so the seed path
 * resolves and applies settings exactly like every other command (node-postgres' Pool takes one
 * fixed client config and could not do sslmode=prefer/allow's second attempt). Idle connections
 * never keep the process alive (unref'd) and close after a few seconds.
 */
const IDLE_MS = 5_000;
const MAX_IDLE_PER_TARGET = 20;

/** pg.Client's socket reference counting (present at runtime, missing from @types/pg). */
type RefCounted = pg.Client & { ref(): void; unref(): void };

interface IdleClient {
  client: RefCounted;
  timer: NodeJS.Timeout;
}

const idle = new Map<string, IdleClient[]>();
const dead = new WeakSet<pg.Client>();

function keyOf(target: DbTarget): string {
  const { sources: _sources, ...settings } = target.settings;
  return JSON.stringify([settings, target.password ?? null, target.sslPassword ?? null]);
}

function takeIdle(key: string): RefCounted | undefined {
  const list = idle.get(key);
  while (list && list.length > 0) {
    const entry = list.pop() as IdleClient;
    clearTimeout(entry.timer);
    if (dead.has(entry.client)) continue;
    entry.client.ref();
    return entry.client;
  }
  return undefined;
}

function putIdle(key: string, client: RefCounted): void {
  const list = idle.get(key) ?? [];
  if (dead.has(client) || list.length >= MAX_IDLE_PER_TARGET) {
    void client.end().catch(() => undefined);
    return;
  }
  const entry: IdleClient = {
    client,
    timer: setTimeout(() => {
      list.splice(list.indexOf(entry), 1);
      void client.end().catch(() => undefined);
    }, IDLE_MS),
  };
  entry.timer.unref();
  client.unref();
  list.push(entry);
  idle.set(key, list);
}

export interface PooledClient {
  client: pg.Client;
  /** Back to the pool; with an error the connection is closed instead (its session state is unknown). */
  release(error?: unknown): void;
}

/** A connection to `target`: an idle one of this process, else a new one (errors as `connect` throws them). */
export async function acquire(target: DbTarget): Promise<PooledClient> {
  const key = keyOf(target);
  let client = takeIdle(key);
  if (!client) {
    client = (await connect(target)) as RefCounted;
    const fresh = client;
    // A server that goes away while the connection idles: the next seed connects anew.
    fresh.on('error', () => dead.add(fresh));
    fresh.on('end', () => dead.add(fresh));
  }
  const leased = client;
  let released = false;
  return {
    client: leased,
    release: (error?: unknown) => {
      if (released) return;
      released = true;
      if (error === undefined) putIdle(key, leased);
      else void leased.end().catch(() => undefined);
    },
  };
}
