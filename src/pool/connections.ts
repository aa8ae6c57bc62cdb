import type pg from 'pg';
import { isDbfastError } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { connect } from '../pg/client.js';
import type { DbTarget } from '../pg/target.js';
import { NOTIFY_CHANNEL, ownerApplicationName } from './names.js';

/**
 * A pool session: named after its process (pg_stat_activity shows who owns what), and with
 * synchronous_commit off, so a claim or a rename commits without waiting for a WAL flush. That
 * loses nothing a crash could matter for: a lost rename leaves a state the reapers recognise,
 * and a test's own commits flush everything written before them.
 */
export async function openSession(target: DbTarget): Promise<pg.Client> {
  const client = await connect(target, { applicationName: ownerApplicationName() });
  try {
    await client.query('SET synchronous_commit = off');
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  queueQueries(client);
  return client;
}

/**
 * Several tasks of a pool share a session (claims and publishes on one, release checks on
 * another): their queries run one after the other, as node-postgres would queue them, but
 * explicitly (it deprecates queueing on a busy client). Callers use the promise form only.
 */
function queueQueries(client: pg.Client): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  let tail: Promise<unknown> = Promise.resolve();
  const queued = (...args: unknown[]): Promise<unknown> => {
    const run = tail.then(() => query(...args));
    tail = run.catch(() => undefined);
    return run;
  };
  client.query = queued as typeof client.query;
}

/** What the pool's sessions tell their pool. */
export interface SessionEvents {
  /** Another process sent a NOTIFY on the pool channel. */
  notified(): void;
  /** A session ended without close(): a server restart, a terminated backend. */
  lost(): void;
  /** Runs on a new control session before it is used: takes again the locks the old one held. */
  adopt(control: pg.Client): Promise<void>;
}

/**
 * Whether the error says a session is gone or cannot be had: a restart, a terminated backend, a
 * network drop, a server that is down. node-postgres reports the first query after a restart
 * this way (EPIPE, "not queryable") before the session's 'end' event has arrived.
 */
export function lostConnection(error: unknown): boolean {
  const code = isDbfastError(error) ? error.code : operationalError(error)?.code;
  return code === 'CONNECTION_LOST' || code === 'CONNECTION_FAILED';
}

const pidOf = (client: pg.Client): number => (client as unknown as { processID: number }).processID;

/**
 * The pool's two long-lived sessions: `control` (claims, publishes, the lease locks, LISTEN) and
 * `work` (catalog reads, release checks). A server restart or a terminated backend ends them;
 * the next lease(), release() or refill pass opens new ones (`ensure`), so a test suite goes on
 * after the server comes back instead of failing every test after it.
 */
export class PoolSessions {
  control!: pg.Client;
  work!: pg.Client;
  private lost = false;
  private closed = false;
  private reconnecting: Promise<void> | undefined;

  constructor(
    private readonly target: DbTarget,
    private readonly events: SessionEvents,
  ) {}

  async open(): Promise<void> {
    const control = await openSession(this.target);
    let work: pg.Client | undefined;
    try {
      work = await openSession(this.target);
      await control.query(`LISTEN ${NOTIFY_CHANNEL}`);
      await this.events.adopt(control);
    } catch (error) {
      await Promise.all([control, work].map((client) => client?.end().catch(() => undefined)));
      throw error;
    }
    control.on('notification', (message) => {
      if (message.processId !== pidOf(control)) this.events.notified();
    });
    for (const client of [control, work]) {
      client.on('end', () => {
        if (client === this.control || client === this.work) this.markLost();
      });
    }
    this.control = control;
    this.work = work;
    this.lost = false;
  }

  /** The sessions are gone (both end, or a query said so first): the pool hears it once per loss. */
  markLost(): void {
    if (this.lost || this.closed) return;
    this.lost = true;
    this.events.lost();
  }

  /** Opens new sessions when the last ones were lost (one reconnect for every caller waiting on it). */
  ensure(): Promise<void> {
    if (!this.lost || this.closed) return Promise.resolve();
    this.reconnecting ??= this.open().finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  async end(): Promise<void> {
    this.closed = true;
    await Promise.all([this.control, this.work].filter(Boolean).map((client) => client.end().catch(() => undefined)));
  }
}

/** Up to `max` sessions for one kind of slow work (creating, dropping), opened on first need. */
export class SessionSlots {
  private readonly idle: pg.Client[] = [];
  private readonly busy = new Map<pg.Client, number>();
  private opening = 0;
  private readonly queue: Array<{ resolve: (client: pg.Client) => void; reject: (error: unknown) => void }> = [];
  private closed = false;

  constructor(
    private readonly target: DbTarget,
    private readonly max: number,
  ) {}

  /** Number of sessions that are working right now. */
  get active(): number {
    return this.busy.size + this.opening;
  }

  /** Backend pids of the working sessions (so close() can cancel what they run). */
  busyPids(): number[] {
    return [...this.busy.values()];
  }

  async take(): Promise<pg.Client> {
    if (this.closed) throw new Error('the pool is closed');
    const idle = this.idle.pop();
    if (idle) return this.mark(idle);
    if (this.busy.size + this.opening < this.max) return this.open();
    return new Promise<pg.Client>((resolve, reject) => this.queue.push({ resolve, reject }));
  }

  /** Back to the slots; a broken session (its query failed mid-way) is closed and replaced for whoever waits. */
  give(client: pg.Client, broken = false): void {
    this.busy.delete(client);
    if (broken || this.closed) void client.end().catch(() => undefined);
    const next = this.queue.shift();
    if (!next) {
      if (!broken && !this.closed) this.idle.push(client);
      return;
    }
    if (!broken && !this.closed) next.resolve(this.mark(client));
    else this.open().then(next.resolve, next.reject);
  }

  async endAll(): Promise<void> {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) waiter.reject(new Error('the pool is closed'));
    const all = [...this.idle.splice(0), ...this.busy.keys()];
    this.busy.clear();
    await Promise.all(all.map((client) => client.end().catch(() => undefined)));
  }

  private async open(): Promise<pg.Client> {
    if (this.closed) throw new Error('the pool is closed');
    this.opening++;
    try {
      const client = await openSession(this.target);
      // An idle session the server ended (a restart) is never handed out again.
      client.on('end', () => {
        const index = this.idle.indexOf(client);
        if (index >= 0) this.idle.splice(index, 1);
      });
      return this.mark(client);
    } finally {
      this.opening--;
    }
  }

  private mark(client: pg.Client): pg.Client {
    this.busy.set(client, (client as unknown as { processID: number }).processID);
    return client;
  }
}
