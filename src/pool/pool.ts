import type pg from 'pg';
import { DbfastError } from '../errors.js';
import { claim, lockLease, trash } from './ops.js';
import { lostConnection, PoolSessions } from './connections.js';
import { Refiller } from './refill.js';
import { releaseLease, type LeaseRecord, type ReleaseHost } from './release.js';
import { readServerFacts, templateSnapshot, type ServerFacts } from './server.js';
import { FileWatcher } from './watch.js';
import { LeaseWaiters, makeLease } from './lease.js';
import type { CloseOptions, Lease, Pool, PoolSettings, PoolStats, ReadyHint, RefillHost, ReleaseOptions, ReleaseResult, TemplateBuild } from './types.js';

/** Opens a pool: ensures the template (through settings.ensureTemplate), reaps this project's leftovers, fills it to `size`. */
export async function openPool(settings: PoolSettings): Promise<Pool> {
  const pool = new WarmPool(settings);
  try {
    await pool.start();
  } catch (error) {
    await pool.close().catch(() => undefined);
    throw error;
  }
  return pool;
}

/**
 * A warm pool (see README "Instant databases"). Ready databases live on the server, where any
 * process may claim one; this object keeps `size` of them ready for its template's current
 * build, hands them out with one round trip, and recycles or drops them on release.
 */
export class WarmPool implements Pool, RefillHost, ReleaseHost {
  build!: TemplateBuild;
  closed = false;
  /** Read on every (re)connect (see ServerFacts). */
  facts: ServerFacts = { version: 0, tracksCounts: true, unsafeBefore: null };
  readonly leases = new Set<LeaseRecord>();
  /** Releases under way: close() lets them finish before it closes the sessions they use. */
  private readonly releasing = new Set<Promise<ReleaseResult>>();
  readonly counters = { served: 0, recycled: 0, dropped: 0, created: 0 };
  /** lease() calls waiting with no ready database to claim: the refill target is size + wanting. */
  wanting = 0;
  readonly refiller: Refiller;
  private readonly waiters = new LeaseWaiters();
  private dirty = false;
  private refreshing: Promise<void> | undefined;
  private watcher: FileWatcher | undefined;
  private closing: Promise<void> | undefined;

  private readonly sessions: PoolSessions;

  constructor(readonly settings: PoolSettings) {
    this.refiller = new Refiller(this);
    this.sessions = new PoolSessions(settings.target, {
      notified: () => this.refiller.kickSoon(),
      lost: () => this.sessionsLost(),
      // Lease locks are session locks: the leases still out get theirs back on the new session.
      adopt: async (control) => {
        for (const record of this.leases) await lockLease(control, record.oid);
        this.facts = await readServerFacts(control);
      },
    });
  }

  get control(): pg.Client {
    return this.sessions.control;
  }

  get work(): pg.Client {
    return this.sessions.work;
  }

  markSessionsLost(): void {
    this.sessions.markLost();
  }

  /** Reconnects when the server ended the pool's sessions (see PoolSessions). */
  ensureSessions(): Promise<void> {
    return this.sessions.ensure().then(() => this.refiller.drops.retryUnreachable());
  }

  private sessionsLost(): void {
    if (this.closed) return;
    this.settings.logger.warn('the pool lost its connection to the server (a restart, or its session was ended): the next lease() or release() reconnects; leases out keep their databases while this process runs');
    // Ready databases may not have survived (a restart without fsync): the next pass, on the new
    // sessions, re-reads what is there; the template is checked again before the next lease.
    this.refiller.forgetHints();
    this.suspect();
  }

  async start(): Promise<void> {
    await this.sessions.open();
    if (this.facts.version < 140000) {
      throw new DbfastError('POOL_UNAVAILABLE', `the pool needs PostgreSQL 14 or later; the local server is ${this.facts.version}`, {
        hint: 'Use `dbfast seed` (a clone per call) on this server, or upgrade it.',
      });
    }
    if (!this.facts.tracksCounts) this.settings.logger.warn('track_counts is off on this server: released databases cannot be proven unchanged, so each is dropped');
    if (this.settings.watch) {
      this.watcher = new FileWatcher(
        () => (this.dirty = true),
        () => void this.refresh().catch(() => undefined),
      );
    }
    await this.refresh();
    await this.refiller.fill();
  }

  // ---- template freshness ------------------------------------------------------------------

  /** True when the next lease must first make sure the template is current. */
  get stale(): boolean {
    return this.dirty || this.refreshing !== undefined;
  }

  /** Suspect the template: the next lease (and refill) waits for a refresh. */
  suspect(): void {
    this.dirty = true;
  }

  /** Suspect the template and check it now, in the background; waiting leases look again (and wait for that check). */
  refreshSoon(): void {
    this.suspect();
    void this.refresh().catch(() => undefined);
    this.wakeWaiters();
  }

  /**
   * Ensures the template (src/index.ts builds it when the files changed), waiting first for a
   * build another process is running, then adopts its current build: on a new oid every ready
   * database of the old build is forgotten (the refiller drops them).
   */
  refresh(deadline?: number): Promise<void> {
    this.refreshing ??= (async () => {
      this.dirty = false;
      try {
        await this.ensureSessions();
        if (this.build) await this.waitWhileBuilding(deadline);
        const ensured = await this.settings.ensureTemplate();
        const snapshot = await templateSnapshot(this.work, ensured.name, ensured.buildLockKey);
        if (snapshot.oid === null) {
          throw new DbfastError('TEMPLATE_MISSING', `template ${ensured.name} disappeared right after it was built (dropped by another process?)`, {
            hint: 'Run the tests again; if it keeps happening, look for a process that drops dbfast templates.',
          });
        }
        const same = this.build?.oid === snapshot.oid;
        this.build = { ...ensured, oid: snapshot.oid, sequences: same ? this.build.sequences : undefined };
        if (!same) this.refiller.forgetHints();
        this.watcher?.update(ensured.watchPaths);
      } catch (error) {
        this.dirty = true;
        throw error;
      } finally {
        this.refreshing = undefined;
        this.refiller.kick();
      }
    })();
    return this.refreshing;
  }

  private async waitWhileBuilding(deadline: number | undefined): Promise<void> {
    const until = deadline ?? Date.now() + this.settings.leaseTimeoutMs;
    for (;;) {
      const { building } = await templateSnapshot(this.work, this.build.name, this.build.buildLockKey);
      if (!building) return;
      if (Date.now() >= until) {
        throw new DbfastError('POOL_TIMEOUT', `no database within ${Math.round(this.settings.leaseTimeoutMs / 1000)} s: another process has been building ${this.build.name} all that time`, {
          hint: 'Wait for that build (see `dbfast status`), or raise [pool] lease_timeout_seconds.',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  // ---- leasing -----------------------------------------------------------------------------

  async lease(): Promise<Lease> {
    this.assertOpen();
    const deadline = Date.now() + this.settings.leaseTimeoutMs;
    await this.ensureSessions();
    let record: LeaseRecord;
    try {
      record = await this.claimNext(deadline);
    } catch (error) {
      if (this.closed || !lostConnection(error)) throw error;
      // The server went away under a session that had not heard yet: reconnect, then once more.
      this.sessions.markLost();
      await this.ensureSessions();
      record = await this.claimNext(deadline);
    }
    this.counters.served++;
    this.leases.add(record);
    this.refiller.kick();
    return makeLease(this.settings.target, record, (leased, options) => this.release(leased, options));
  }

  /** Claims the next ready database of the current build, waiting (until the deadline) for one. */
  private async claimNext(deadline: number): Promise<LeaseRecord> {
    for (;;) {
      // close() fails the lease() calls already waiting; this one may not have been waiting yet.
      this.assertOpen();
      if (this.stale) await this.refresh(deadline);
      const hint = this.refiller.takeHint();
      if (!hint) {
        // Only a lease() with nothing to claim counts as wanting: the refill makes one more for it.
        this.wanting++;
        try {
          this.refiller.kick();
          await this.waitForReady(deadline);
        } finally {
          this.wanting--;
        }
        continue;
      }
      const record = await this.tryClaim(hint, deadline);
      if (!record) continue;
      if (this.closed) {
        this.dropLeased(record);
        this.assertOpen();
      }
      return record;
    }
  }

  private async tryClaim(hint: ReadyHint, deadline: number): Promise<LeaseRecord | undefined> {
    const build = this.build;
    const result = await this.refiller.claiming(hint.name, () => claim(this.control, hint, build.name, build.buildLockKey));
    if (result.kind !== 'claimed') return undefined;
    const record: LeaseRecord = { name: result.name, oid: hint.oid, comment: result.comment, marker: hint.marker, build, released: undefined };
    // A file change the kernel reported before this lease began is delivered in the event-loop
    // turn that also brought the claim's answer; one more turn makes sure its callback has run.
    await new Promise((resolve) => setImmediate(resolve));
    if (result.templateOid === build.oid && !result.building && !this.dirty) return record;
    // The template was rebuilt (or is being rebuilt): hold the claim, wait for the build, and
    // hand this database out only if it still is the current build.
    this.suspect();
    try {
      await this.refresh(deadline);
    } catch (error) {
      this.dropLeased(record);
      throw error;
    }
    if (this.build.oid === build.oid) return record;
    this.dropLeased(record);
    return undefined;
  }

  private waitForReady(deadline: number): Promise<void> {
    this.assertOpen();
    return this.waiters.wait(deadline, () => this.refiller.timeoutError());
  }

  /** A ready database appeared (or the state changed): every waiter looks again. */
  wakeWaiters(): void {
    this.waiters.wake();
  }

  /** Making databases keeps failing: waiters stop waiting and get the error. */
  failWaiters(error: unknown): void {
    this.waiters.fail(error);
  }

  // ---- releasing ---------------------------------------------------------------------------

  release(record: LeaseRecord, options: ReleaseOptions = {}): Promise<ReleaseResult> {
    if (!record.released && this.closed) {
      // close() dropped the leases still out (see close()); there is nothing left to release.
      record.released = Promise.resolve({ database: record.name, outcome: 'dropped', reason: 'the pool was closed before this release (close() drops the leases still out)', url: null, durationMs: 0 });
    }
    if (!record.released) {
      let recycled = false;
      const released = releaseLease(this, record, options)
        .then((result) => {
          recycled = result.outcome === 'recycled';
          if (recycled) this.trimSurplus(result.database);
          return result;
        })
        .finally(() => {
          this.refiller.noteRelease(recycled);
          this.leases.delete(record);
          this.releasing.delete(released);
        });
      this.releasing.add(released);
      record.released = released;
    }
    return record.released;
  }

  /**
   * A database this pool holds the lease lock of, changed or stale: dropped off the caller's path
   * (queued, see drops.ts), then the lock is freed; or, for one-off leases, handed over as trash.
   */
  dropLeased(record: { name: string; oid: number; build: TemplateBuild }, reason = 'released changed'): void {
    this.counters.dropped++;
    const queue = (): void => this.refiller.drops.add({ name: record.name, template: record.build.name, leasedOid: record.oid, reason });
    if (!this.settings.handOffDrops) return queue();
    this.refiller.track(async () => {
      const handed = await trash(this.control, record.name, record.oid, record.build.name).catch(() => false);
      if (!handed) queue();
    });
  }

  /**
   * A recycled lease can put the pool one over its size (a refill made its replacement meanwhile):
   * the surplus is claimed like a lease, so no other process is handed it, and dropped.
   */
  private trimSurplus(recycled: string): void {
    const hint = this.refiller.takeSurplus(recycled);
    if (!hint) return;
    const build = this.build;
    this.refiller.track(() => this.refiller.dropSurplus(hint, build));
  }

  // ---- the rest ----------------------------------------------------------------------------

  stats(): PoolStats {
    return {
      template: this.build.name,
      environment: this.build.environment,
      templateBuiltAt: this.build.builtAt,
      size: this.settings.size,
      maxClones: this.settings.maxClones,
      ready: this.refiller.readyCount,
      leased: this.leases.size,
      creating: this.refiller.creating,
      waiting: this.waiters.count,
      ...this.counters,
    };
  }

  assertOpen(): void {
    if (this.closed) throw new DbfastError('POOL_CLOSED', 'the pool is closed', { hint: 'Create a new pool with createPool().' });
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.watcher?.close();
      this.failWaiters(new DbfastError('POOL_CLOSED', 'the pool was closed while lease() waited', { hint: 'Close the pool only after the last lease().' }));
      await this.refiller.stop(this.control);
      await Promise.allSettled([...this.releasing]);
      // Leases still out belong to tests that are over: their databases may have changed.
      for (const record of this.leases) if (!record.released) this.dropLeased(record);
      if (this.build) await this.refiller.sweep().catch(() => undefined);
      await this.refiller.settle();
      if (options.drain && this.build) await this.refiller.drainReady();
      await this.refiller.endSessions();
      await this.sessions.end();
    })();
    return this.closing;
  }
}
