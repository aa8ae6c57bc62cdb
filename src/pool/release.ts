import type pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import { maskUrl, withDatabase } from '../pg/target.js';
import { describeChange, readDatabaseState, restartedSince, sameSequences, sequenceFingerprint, type DatabaseState } from './changes.js';
import type { PoolMarker } from './marker.js';
import { lostConnection } from './connections.js';
import { publish, renameReleased, terminateAndRead, unlockLease } from './ops.js';
import { madeSinceStart, type ServerFacts } from './server.js';
import type { ReadyHint } from './types.js';
import type { PoolSettings, ReleaseOptions, ReleaseResult, TemplateBuild } from './types.js';

/** A database this process has claimed (its lease lock is held by the pool's control session). */
export interface LeaseRecord {
  /** Its name now (a release renames it). */
  name: string;
  oid: number;
  /** Its comment when it was handed out: a test that changes it changed the database. */
  comment: string | null;
  marker: PoolMarker | undefined;
  /** The template build it came from. */
  build: TemplateBuild;
  released: Promise<ReleaseResult> | undefined;
}

/** What a release needs of its pool (WarmPool in pool.ts implements it; declared here so this module does not import pool.ts). */
export interface ReleaseHost {
  readonly settings: PoolSettings;
  readonly build: TemplateBuild;
  readonly control: pg.Client;
  readonly work: pg.Client;
  readonly closed: boolean;
  /** The server's track_counts (without it nothing is provably unchanged) and last start without fsync. */
  readonly facts: Pick<ServerFacts, 'tracksCounts' | 'unsafeBefore'>;
  readonly counters: { recycled: number; dropped: number };
  readonly refiller: { addHint(hint: ReadyHint): void };
  dropLeased(record: LeaseRecord): void;
  /** Reconnects when the server ended the pool's sessions. */
  ensureSessions(): Promise<void>;
  /** A query said the sessions are gone before their 'end' event did. */
  markSessionsLost(): void;
}

/** Why a released database cannot go back to the pool, judged on its state after its sessions ended. */
function recycleBlocker(pool: ReleaseHost, record: LeaseRecord, state: DatabaseState): string | undefined {
  if (!pool.facts.tracksCounts) return 'track_counts is off on this server, so changes cannot be ruled out';
  if (!record.marker) return 'it carries no pool marker';
  if (!madeSinceStart(pool.facts.unsafeBefore, record.marker)) return 'it was made before the server restarted without fsync (its files may be incomplete)';
  // A restart first: it may also have lost the claim's comment (commits not flushed).
  const restarted = restartedSince(record.marker.baseline, state.counters);
  if (restarted) return restarted;
  if (state.comment !== record.comment) return 'its comment was changed';
  return describeChange(record.marker.baseline, state.counters);
}

/**
 * The release (see changes.ts for what "provably unchanged" means):
 *  1. end every session on it and wait for their processes to exit; read its counters;
 *  2. keep: rename it `__dbfast_kept_`, free the lease lock, say where it is;
 *  3. counters moved: changed, dropped in the background;
 *  4. else rename it (the barrier: PostgreSQL waits for any backend still attached, and the old
 *     name stops working for anyone who kept the URL), read the counters again, compare the
 *     sequences, and publish it as ready under a new name if nothing moved and its template
 *     build is still the current one.
 */
export async function releaseLease(pool: ReleaseHost, record: LeaseRecord, options: ReleaseOptions): Promise<ReleaseResult> {
  const started = performance.now();
  const done = (outcome: ReleaseResult['outcome'], database: string, reason: string | null, url: string | null = null): ReleaseResult => ({
    database,
    outcome,
    reason,
    url,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
  });
  const { settings } = pool;
  const template = record.build.name;
  try {
    await pool.ensureSessions();
    const { work, control } = pool;
    const state = await terminateAndRead(work, record.oid);
    if (!state) {
      await unlockLease(control, record.oid).catch(() => undefined);
      pool.counters.dropped++;
      return done('dropped', record.name, 'it no longer exists (someone dropped it)');
    }
    record.name = state.name;
    if (options.keep) {
      const kept = await renameReleased(work, state.name, record.oid, template, 'kept');
      if (!kept) {
        throw new DbfastError('SESSIONS_BLOCKING', `cannot keep ${state.name}: sessions keep connecting to it`, {
          hint: 'Stop whatever reconnects to it, then release it again.',
        });
      }
      record.name = kept;
      await unlockLease(control, record.oid);
      const url = maskUrl(withDatabase(settings.target, kept).url);
      settings.logger.info(`kept ${kept} for debugging: ${url} (drop it with \`dbfast drop ${kept}\`)`);
      return done('kept', kept, null, url);
    }
    let reason = recycleBlocker(pool, record, state);
    if (!reason) {
      const renamed = await renameReleased(work, record.name, record.oid, template, 'lease');
      if (!renamed) reason = 'sessions kept connecting to it';
      else {
        record.name = renamed;
        const after = await readDatabaseState(work, record.oid);
        reason = after ? recycleBlocker(pool, record, after) : 'it no longer exists';
        const baseline = record.marker?.baseline.sequences ?? null;
        if (!reason && baseline !== null && !sameSequences(baseline, await sequenceFingerprint(work, settings.target, renamed))) {
          reason = 'a sequence moved (nextval or setval)';
        }
      }
    }
    if (!reason && record.build.oid !== pool.build.oid) reason = 'its template was rebuilt meanwhile';
    if (!reason && pool.closed) reason = 'the pool is closing';
    if (!reason) {
      const ready = await publish(control, record.name, record.oid, template);
      pool.counters.recycled++;
      pool.refiller.addHint({ name: ready, oid: record.oid, comment: record.comment, marker: record.marker as PoolMarker, addedAt: Date.now() });
      return done('recycled', ready, null);
    }
    pool.dropLeased(record);
    return done('dropped', record.name, reason);
  } catch (error) {
    if (options.keep) throw error;
    // Whatever state it is in, it is not going back: drop it (the lease lock keeps reapers off until then).
    pool.dropLeased(record);
    if (pool.closed || !lostConnection(error)) throw error;
    // The server is gone or restarted: nothing proves it unchanged; the drop runs once it is back.
    pool.markSessionsLost();
    return done('dropped', record.name, `the connection to the server was lost (${errorMessage(error)}); it is dropped once the server is back, by this pool or \`dbfast drop --stale\``);
  }
}
