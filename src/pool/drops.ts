import { DbfastError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import { lostConnection, SessionSlots } from './connections.js';
import { dropPooled } from './ops.js';

/** A database on its way out: a changed or stale lease of this pool, or garbage another process left. */
export interface PendingDrop {
  name: string;
  template: string;
  /** Set for this pool's own leases: their lease lock is freed once the database is gone. */
  leasedOid?: number | undefined;
  reason: string;
}

/**
 * Every DROP DATABASE waits for a checkpoint (PostgreSQL 15), and drops that wait together share
 * one. So drops run as soon as they are queued, and those queued while a batch runs go together
 * in the next one (up to MAX_AT_ONCE), never held back: a checkpoint costs what was written since
 * the last one (fresh clones, mostly), so checkpoints held back for slack, or while a lease()
 * waits, are fewer but longer, and every lease caught by one waits for all of it. Measured with
 * `npm run bench -- --only pool --pool-cases keeps --runs 3` (the README's pool numbers): lease()
 * p95 against a clone per test 4.0× holding drops back for slack or for 8 queued (one run of
 * three timed out at 60 s), 3.8× holding them back while leases waited, 1.5× dropping at once.
 * Until dropped, a queued lease keeps its lease name and lock, so it is never handed out or reaped.
 */
const MAX_AT_ONCE = 16;

export class DropQueue {
  private readonly pending: PendingDrop[] = [];
  /** This pool's own released leases among the queued ones (for messages). */
  private ownLeases = 0;
  private readonly queued = new Set<string>();
  /** Drops that failed because the server was unreachable: queued again once the pool reconnects. */
  private readonly unreachable: PendingDrop[] = [];
  private batch: Promise<void> | undefined;
  private readonly sessions: SessionSlots;

  constructor(
    target: DbTarget,
    private readonly dropped: (drop: PendingDrop) => Promise<void>,
    private readonly logger: Logger,
  ) {
    this.sessions = new SessionSlots(target, MAX_AT_ONCE);
  }

  /** This pool's released leases waiting to be dropped (still named, and locked, as leases). */
  get leases(): number {
    return this.ownLeases;
  }

  get size(): number {
    return this.pending.length + (this.batch ? 1 : 0);
  }

  has(name: string): boolean {
    return this.queued.has(name);
  }

  add(drop: PendingDrop): void {
    if (this.queued.has(drop.name)) return;
    this.queued.add(drop.name);
    if (drop.leasedOid !== undefined) this.ownLeases++;
    this.pending.push(drop);
    this.pump();
  }

  /** Starts the next batch unless one is running (which starts the next itself when it ends). */
  pump(): Promise<void> | undefined {
    if (this.batch || this.pending.length === 0) return this.batch;
    const work = this.pending.splice(0, MAX_AT_ONCE);
    this.batch = Promise.all(work.map((drop) => this.dropOne(drop))).then(() => {
      this.batch = undefined;
      this.pump();
    });
    return this.batch;
  }

  /** On close: everything queued, now. */
  async flush(): Promise<void> {
    while (this.batch || this.pending.length > 0) await (this.pump() ?? this.batch);
  }

  /** The pool has sessions again: the drops the server could not take meanwhile go now. */
  retryUnreachable(): void {
    for (const drop of this.unreachable.splice(0)) this.add(drop);
  }

  async end(): Promise<void> {
    for (const drop of this.unreachable.splice(0)) {
      this.logger.warn(`could not drop ${drop.name}: the server could not be reached (\`dbfast drop --stale\` drops it once this process has ended)`);
    }
    await this.sessions.endAll();
  }

  private async dropOne(drop: PendingDrop): Promise<void> {
    this.logger.debug(`dropping ${drop.name}: ${drop.reason}`);
    try {
      // Once more on a new session when the first was cut (a server restart the idle session had not heard of yet).
      for (let attempt = 1; ; attempt++) {
        try {
          const cleared = await this.dropOn(drop);
          // What a test left that outlives it (a prepared transaction's work is lost): said, never silent.
          if (cleared.length > 0) this.logger.warn(`dropping ${drop.name}: ${cleared.join('; ')}`);
          break;
        } catch (error) {
          if (attempt >= 2 || !lostConnection(error)) throw error;
        }
      }
    } catch (error) {
      // Never thrown: this runs in the background, where a rejection would end the process.
      if (lostConnection(error)) {
        this.logger.debug(`could not drop ${drop.name} yet: ${errorMessage(error)}`);
        this.unreachable.push(drop);
        return;
      }
      const hint = error instanceof DbfastError && error.code === 'DROP_DATABASE_FAILED' ? `\n${error.hint ?? ''}` : '';
      this.logger.warn(`could not drop ${drop.name} (the next pool or \`dbfast drop --stale\` will try again): ${errorMessage(error)}${hint}`);
    } finally {
      this.queued.delete(drop.name);
      if (drop.leasedOid !== undefined) this.ownLeases--;
    }
    await this.dropped(drop).catch(() => undefined);
  }

  /** Drops it on a session of the queue's; returns what had to be cleared first. */
  private async dropOn(drop: PendingDrop): Promise<string[]> {
    const client = await this.sessions.take();
    let broken = false;
    try {
      return await dropPooled(client, drop.name, drop.template);
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      this.sessions.give(client, broken);
    }
  }
}
