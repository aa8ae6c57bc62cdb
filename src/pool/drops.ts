import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import { SessionSlots } from './connections.js';
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
 * one. So drops are queued and run together, up to MAX_AT_ONCE at a time:
 *  - `now` (the server is at max_clones, the pool is closing, or it has slack: nobody waits and
 *    `size` are ready): whatever is queued;
 *  - `batch` (refilling, nobody waiting): once BATCH are queued;
 *  - `defer` (a lease() waits for a clone): only once MAX_AT_ONCE are queued. A checkpoint
 *    slows the clone a lease waits for, so drops wait; but not for ever, because a checkpoint
 *    after dozens of fresh clones (WAL_LOG writes them through shared buffers) takes so long on
 *    a busy disk that every lease would then wait for it.
 * Until dropped, a queued lease keeps its lease name and lock, so it is never handed out or reaped.
 */
const BATCH = 8;
const MAX_AT_ONCE = 16;

/** When queued drops may run (see above); the pool decides from its state. */
export type DropUrgency = 'now' | 'batch' | 'defer';

export class DropQueue {
  private readonly pending: PendingDrop[] = [];
  /** This pool's own released leases among the queued ones (for messages). */
  private ownLeases = 0;
  private readonly queued = new Set<string>();
  private batch: Promise<void> | undefined;
  private readonly sessions: SessionSlots;

  constructor(
    target: DbTarget,
    private readonly urgency: () => DropUrgency,
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

  /** Starts the next batch when allowed (called on every change of the pool's state). */
  pump(force = false): Promise<void> | undefined {
    if (this.batch || this.pending.length === 0 || !(force || this.due())) return this.batch;
    const work = this.pending.splice(0, MAX_AT_ONCE);
    this.batch = Promise.all(work.map((drop) => this.dropOne(drop))).then(() => {
      this.batch = undefined;
      this.pump(force);
    });
    return this.batch;
  }

  private due(): boolean {
    const urgency = this.urgency();
    return urgency === 'now' || this.pending.length >= (urgency === 'batch' ? BATCH : MAX_AT_ONCE);
  }

  /** On close: everything queued, now. */
  async flush(): Promise<void> {
    while (this.batch || this.pending.length > 0) await (this.pump(true) ?? this.batch);
  }

  async end(): Promise<void> {
    await this.sessions.endAll();
  }

  private async dropOne(drop: PendingDrop): Promise<void> {
    let broken = false;
    const client = await this.sessions.take();
    try {
      this.logger.debug(`dropping ${drop.name}: ${drop.reason}`);
      await dropPooled(client, drop.name, drop.template);
    } catch (error) {
      broken = true;
      this.logger.warn(`could not drop ${drop.name} (the next pool or \`dbfast drop --stale\` will): ${errorMessage(error)}`);
    } finally {
      this.sessions.give(client, broken);
      this.queued.delete(drop.name);
      if (drop.leasedOid !== undefined) this.ownLeases--;
    }
    await this.dropped(drop).catch(() => undefined);
  }
}
