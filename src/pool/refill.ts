import type pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import { lostConnection, SessionSlots } from './connections.js';
import { createReady, leaseTimeoutError, reserve, type CapSnapshot } from './create.js';
import { claim, dropPooled, unlockLease } from './ops.js';
import { CloneConcurrency, MAX_CREATING } from './concurrency.js';
import { DropQueue } from './drops.js';
import { readServerPool, readyFor, reapReason, templateSnapshot, type ServerPool } from './server.js';
import type { PoolMarker } from './marker.js';
import type { ReadyHint, RefillHost, TemplateBuild } from './types.js';

/** Releases remembered to judge how many leases out will come back (see expectedReturns). */
const RETURNS_REMEMBERED = 8;

/**
 * Keeps the pool's template stocked: `size` ready databases plus one per waiting lease() (less the
 * leases out that will likely come back unchanged), within
 * `max_clones` on the server. Works from events (a lease, a release, a NOTIFY from another
 * process, a clone finished) and a slow tick while short; each pass re-reads the server, adopts
 * the ready databases any process made, and drops what this project's crashed processes left.
 */
export class Refiller {
  readonly creators: SessionSlots;
  readonly drops: DropQueue;
  /** How many clones at once this server makes faster (learned, see concurrency.ts). */
  readonly concurrency = new CloneConcurrency();
  lastCap: CapSnapshot | undefined;
  lastError: unknown;
  private hints: ReadyHint[] = [];
  private readonly claimingNames = new Set<string>();
  private readonly tasks = new Set<Promise<void>>();
  private inflight = 0;
  private failures = 0;
  private passing: Promise<void> | undefined;
  private passAgain = false;
  private soon: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  /** After the server said "enough" (or "full"), no new reservation attempt before this time. */
  private quietUntil = 0;
  private stopped = false;
  /** The last releases, true for one that came back unchanged (recycled). */
  private readonly returns: boolean[] = [];

  constructor(private readonly pool: RefillHost) {
    this.creators = new SessionSlots(pool.settings.target, MAX_CREATING);
    this.drops = new DropQueue(
      pool.settings.target,
      async (drop) => {
        if (drop.leasedOid !== undefined) await unlockLease(pool.control, drop.leasedOid);
        this.kick();
      },
      pool.settings.logger,
    );
    this.ticker = setInterval(() => {
      if (this.pool.wanting > 0 || this.hints.length < this.pool.settings.size) this.kick();
    }, 500);
    this.ticker.unref();
  }

  get readyCount(): number {
    return this.hints.length;
  }

  get creating(): number {
    return this.inflight;
  }

  /** The server was at max_clones when this pool last asked: dropping frees room, so it goes first. */
  get capPressed(): boolean {
    return this.lastCap !== undefined && this.lastCap.total >= this.lastCap.maxClones;
  }

  takeHint(): ReadyHint | undefined {
    return this.hints.shift();
  }

  addHint(hint: ReadyHint): void {
    if (this.stopped) return;
    if (!this.hints.some((known) => known.name === hint.name)) this.hints.push(hint);
    this.pool.wakeWaiters();
  }

  /** One ready database over size + waiting leases, if any, never `keep` (the one just recycled). */
  takeSurplus(keep: string): ReadyHint | undefined {
    if (this.stopped || this.hints.length <= this.pool.settings.size + this.pool.wanting) return undefined;
    const index = this.hints.findIndex((hint) => hint.name !== keep);
    return index < 0 ? undefined : this.hints.splice(index, 1)[0];
  }

  /** Claims a surplus ready database like a lease (so no other process is handed it), then drops it. */
  async dropSurplus(hint: ReadyHint, build: TemplateBuild): Promise<void> {
    const result = await this.claiming(hint.name, () => claim(this.pool.control, hint, build.name, build.buildLockKey));
    if (result.kind === 'claimed') this.drops.add({ name: result.name, template: build.name, leasedOid: hint.oid, reason: 'more ready than the pool size' });
  }

  /** A lease was released: `recycled` when it went back to the pool unchanged. */
  noteRelease(recycled: boolean): void {
    this.returns.push(recycled);
    if (this.returns.length > RETURNS_REMEMBERED) this.returns.shift();
  }

  /**
   * Leases out that will probably come back unchanged, judged on the last releases. Read-only
   * tests return their database within milliseconds, long before a clone started for them would
   * be ready; that clone would only be dropped as surplus (a DROP DATABASE and a checkpoint that
   * slow down every lease meanwhile). None while a lease() waits: a clone may serve it sooner than
   * a test that runs long.
   */
  private expectedReturns(): number {
    if (this.pool.wanting > 0 || this.returns.length === 0) return 0;
    const share = this.returns.filter(Boolean).length / this.returns.length;
    // A database being claimed is a lease out already (its lease() is one round trip from returning).
    return Math.floor((this.pool.leases.size + this.claimingNames.size) * share);
  }

  forgetHints(): void {
    this.hints = [];
  }

  /** Runs `fn` with the name marked as being claimed, so a pass does not offer it again meanwhile. */
  async claiming<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.claimingNames.add(name);
    try {
      return await fn();
    } finally {
      this.claimingNames.delete(name);
    }
  }

  /** Background work the pool waits for on close(); its errors are logged, never thrown at a caller. */
  track(work: () => Promise<void>): void {
    const task = work().catch((error: unknown) => this.pool.settings.logger.warn(`pool: ${errorMessage(error)}`));
    this.tasks.add(task);
    void task.finally(() => this.tasks.delete(task));
  }

  /** A pass as soon as possible (one at a time; a kick during a pass runs another after it). */
  kick(): void {
    this.drops.pump();
    if (this.stopped) return;
    this.topUp();
    if (this.passing) {
      this.passAgain = true;
      return;
    }
    this.passing = this.pass()
      .catch((error: unknown) => {
        this.lastError = error;
        this.pool.settings.logger.debug(`pool pass failed: ${errorMessage(error)}`);
      })
      .finally(() => {
        this.passing = undefined;
        if (this.passAgain && !this.stopped) {
          this.passAgain = false;
          this.kick();
        }
      });
  }

  /** For NOTIFY bursts: one pass for many notifications. */
  kickSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.kick();
    }, 20);
    this.soon.unref();
  }

  private async pass(): Promise<void> {
    const pool = this.pool;
    if (this.stopped || !pool.build) return;
    await pool.ensureSessions();
    if (this.stopped || pool.stale) return;
    const started = Date.now();
    const build = pool.build;
    const snapshot = await templateSnapshot(pool.work, build.name, build.buildLockKey);
    if (snapshot.oid !== build.oid || snapshot.building) {
      // Rebuilt (or being rebuilt) by someone: stop handing out and making clones of this build.
      pool.refreshSoon();
      return;
    }
    const server = await readServerPool(pool.work);
    if (this.stopped || pool.build !== build) return;
    const seen = readyFor(server, build.name, build.oid)
      .filter((database) => !this.claimingNames.has(database.name) && !this.drops.has(database.name))
      .map((database): ReadyHint => ({ name: database.name, oid: database.oid, comment: database.comment, marker: database.marker as PoolMarker, addedAt: started }));
    const recent = this.hints.filter((hint) => hint.addedAt > started && !seen.some((database) => database.name === hint.name));
    this.hints = [...seen, ...recent];
    if (this.hints.length > 0) pool.wakeWaiters();
    // A one-off lease's pool leaves garbage to the long-lived pool (or the next one), unless it is
    // itself held up by the cap.
    if (!pool.settings.handOffDrops || this.capPressed) this.reapFrom(server);
    this.topUp();
  }

  /** Starts making databases while fewer are ready or on their way than size + waiting leases. */
  private topUp(): void {
    const pool = this.pool;
    if (this.stopped || pool.stale || !pool.build || Date.now() < this.quietUntil) return;
    const target = pool.settings.size + pool.wanting;
    const limit = pool.build.strategy === 'file_copy' ? 1 : Math.min(MAX_CREATING, this.concurrency.limit);
    const returning = this.expectedReturns();
    while (this.inflight < limit && this.hints.length + this.inflight + returning < target) this.startCreate();
  }

  private startCreate(): void {
    const pool = this.pool;
    const build = pool.build;
    this.inflight++;
    this.track(async () => {
      let client: pg.Client | undefined;
      let broken = false;
      try {
        client = await this.creators.take();
        const reservation = await reserve(client, build, pool.settings.size + pool.wanting, pool.settings.maxClones);
        this.lastCap = reservation.snapshot;
        if (reservation.hex === undefined) {
          // The server has enough ready or coming (another process's), or is full: look again later.
          this.quietUntil = Date.now() + (reservation.full ? 500 : 100);
          return;
        }
        const level = this.inflight;
        const started = performance.now();
        const created = await createReady(client, pool.settings.target, build, reservation.hex);
        if (created) this.concurrency.record(level, performance.now() - started);
        this.failures = 0;
        if (created && pool.build === build) {
          pool.counters.created++;
          const hint: ReadyHint = { name: created.name, oid: created.oid, comment: created.comment, marker: created.marker, addedAt: Date.now() };
          // Finished after close() began (the cancel came too late), or a released lease was
          // recycled meanwhile: the pool never keeps more than its size ready.
          if (this.stopped || this.hints.length >= pool.settings.size + pool.wanting) await this.dropSurplus(hint, build);
          else this.addHint(hint);
        }
      } catch (error) {
        broken = true;
        if (this.stopped) return;
        this.failures++;
        this.lastError = error;
        // A lost connection is the pool's own warning (once per loss), not one per clone in flight.
        const log = lostConnection(error) ? pool.settings.logger.debug : pool.settings.logger.warn;
        log.call(pool.settings.logger, `could not make a ready database from ${build.name}: ${errorMessage(error)}`);
        // Perhaps the template went away or was swapped: check it before the next attempt, and
        // back off (0.5 s, 1 s, 2 s, ... up to 8 s) rather than spin on a failure that repeats.
        this.quietUntil = Date.now() + Math.min(8000, 250 * 2 ** this.failures);
        // Waiting leases fail on a failure that repeats; a server that is restarting is waited for (up to their timeout).
        if (this.failures >= 2 && !lostConnection(error)) pool.failWaiters(error);
        pool.refreshSoon();
      } finally {
        if (client) this.creators.give(client, broken);
        this.inflight--;
        if (!this.stopped) setImmediate(() => this.kick());
      }
    });
  }

  /** At start: one pass, then wait until `size` are ready (or the cap, an error or the timeout stops it). */
  async fill(): Promise<void> {
    this.kick();
    const pool = this.pool;
    const deadline = Date.now() + pool.settings.leaseTimeoutMs;
    while (this.hints.length < pool.settings.size && Date.now() < deadline) {
      if (this.failures >= 2) throw this.lastError;
      const full = this.lastCap !== undefined && this.lastCap.total >= this.lastCap.maxClones && this.inflight === 0;
      if (full) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** The error a lease() that waited too long gets: what held it up, in numbers. */
  timeoutError(): DbfastError {
    const pool = this.pool;
    return leaseTimeoutError({
      template: pool.build.name,
      timeoutMs: pool.settings.leaseTimeoutMs,
      cap: this.lastCap,
      leasedHere: pool.leases.size,
      dropping: this.drops.leases,
      lastError: this.lastError,
      creating: this.inflight,
      waiting: pool.wanting,
    });
  }

  /** Stops every pass and cancels the clones being made (CREATE DATABASE rolls back cleanly). */
  async stop(control: pg.Client): Promise<void> {
    this.stopped = true;
    clearInterval(this.ticker);
    clearTimeout(this.soon);
    this.hints = [];
    const pids = this.creators.busyPids();
    if (pids.length > 0) await control.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids]).catch(() => undefined);
    await this.passing;
  }

  /** Queues every piece of this project's garbage on the server for dropping (see reapReason). */
  private reapFrom(server: ServerPool): void {
    for (const database of server.databases) {
      if (this.drops.has(database.name) || !this.pool.settings.owns(database)) continue;
      const reason = reapReason(database, server);
      if (reason) this.drops.add({ name: database.name, template: database.template, reason });
    }
  }

  /** On close of a long-lived pool: drops this project's garbage now (trash handed over, dead leases), not at the next pool's start. */
  async sweep(): Promise<void> {
    if (!this.pool.settings.handOffDrops) this.reapFrom(await readServerPool(this.pool.work));
  }

  /** Waits for every background clone and runs every queued drop. */
  async settle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
    await this.drops.flush();
  }

  /** close({ drain: true }): drops the ready databases of this template (any build). */
  async drainReady(): Promise<void> {
    const build = this.pool.build;
    const server = await readServerPool(this.pool.work);
    for (const database of server.databases) {
      if (database.template === build.name && database.state === 'ready' && this.pool.settings.owns(database)) await dropPooled(this.pool.work, database.name, build.name).catch(() => undefined);
    }
  }

  async endSessions(): Promise<void> {
    await Promise.all([this.creators.endAll(), this.drops.end()]);
  }
}
