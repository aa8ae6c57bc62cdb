import type pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import { dropStatement } from '../pg/catalog.js';
import { applyDatabaseSettings, readDatabaseSettings } from '../pg/db-properties.js';
import { advisoryLockStatement } from '../pg/lock.js';
import { quoteIdent, quoteLiteral } from '../pg/quote.js';
import type { DbTarget } from '../pg/target.js';
import { readDatabaseState, sequenceFingerprint } from './changes.js';
import { notifySql } from './ops.js';
import { encodePoolMarker, newMarker, type PoolMarker } from './marker.js';
import { withCloneThrottle } from './throttle.js';
import { CAP_LOCK_KEY, creatingApplicationName, ownerApplicationName, poolDatabaseName, randomHex } from './names.js';
import { cappedCount, inFlight, readServerPool, readyFor, type ServerPool } from './server.js';
import type { TemplateBuild } from './types.js';

/** The pool's numbers at the moment a reservation was decided, for waiters' messages. */
export interface CapSnapshot {
  /** Pooled databases on the server (all projects), including ones being made. */
  total: number;
  maxClones: number;
  /** Ready databases of this template build, and ones being made for it. */
  ready: number;
  creating: number;
  server: ServerPool;
}

export type Reservation = { hex: string; snapshot: CapSnapshot } | { hex: undefined; snapshot: CapSnapshot; full: boolean };

/**
 * Decides, under a server-wide transaction lock, whether one more database may be made for this
 * template build: only while fewer than `target` are ready or being made for it, and fewer than
 * `maxClones` pooled databases exist on the server. A yes is recorded in this session's
 * application_name (`dbfast creating <hex> <oid>`) before the lock is released, so every other
 * process counts it from then on. The cap's lock lives in the admin database of the config
 * (`postgres` by default): processes whose configs name another admin database do not serialise
 * with these, though they still see and count the same databases.
 */
export async function reserve(client: pg.Client, build: TemplateBuild, target: number, maxClones: number): Promise<Reservation> {
  await client.query(`BEGIN; ${advisoryLockStatement(CAP_LOCK_KEY, 'xact_lock')}`);
  try {
    const server = await readServerPool(client);
    const snapshot: CapSnapshot = {
      total: cappedCount(server),
      maxClones,
      ready: readyFor(server, build.name, build.oid).length,
      creating: inFlight(server).filter((session) => session.templateOid === build.oid).length,
      server,
    };
    if (snapshot.ready + snapshot.creating >= target || snapshot.total >= maxClones) {
      await client.query('COMMIT');
      return { hex: undefined, snapshot, full: snapshot.total >= maxClones };
    }
    const hex = randomHex();
    await client.query(`SET application_name = ${quoteLiteral(creatingApplicationName(hex, build.oid))}; COMMIT`);
    return { hex, snapshot };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export interface CreatedDatabase {
  name: string;
  oid: number;
  comment: string;
  marker: PoolMarker;
}

/**
 * Makes `<template>__dbfast_ready_<hex>` on the reserving session: CREATE DATABASE (FILE_COPY
 * ones one at a time per server: each forces two checkpoints), the template's database settings
 * (which CREATE DATABASE does not copy), then the marker that says it is
 * complete, measured against the baseline the release check compares with. A clone whose template
 * was swapped by a rebuild while it was being made is dropped, never marked.
 */
export async function createReady(client: pg.Client, target: DbTarget, build: TemplateBuild, hex: string): Promise<CreatedDatabase | undefined> {
  const name = poolDatabaseName(build.name, 'ready', hex);
  let created: CreatedDatabase | undefined;
  try {
    const strategy = build.strategy ? ` STRATEGY ${build.strategy.toUpperCase()}` : '';
    await withCloneThrottle(client, build.strategy, () => client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(build.name)}${strategy}`));
    const oids = (
      await client.query<{ clone: number | null; template: number | null }>(
        'SELECT (SELECT oid::int FROM pg_database WHERE datname = $1) AS clone, (SELECT oid::int FROM pg_database WHERE datname = $2) AS template',
        [name, build.name],
      )
    ).rows[0];
    if (!oids?.clone || oids.template !== build.oid) {
      await dropQuietly(client, name);
      return undefined;
    }
    // Before the baseline is measured: the settings are part of what the release check compares.
    await applyDatabaseSettings(client, name, build.settings ?? (await readDatabaseSettings(client, build.name)));
    build.sequences ??= await sequenceFingerprint(client, target, name);
    const state = await readDatabaseState(client, oids.clone);
    if (!state) return undefined;
    const marker = newMarker({
      template: build.name,
      environment: build.environment,
      templateOid: build.oid,
      templateBuiltAt: build.builtAt,
      owner: build.owner,
      baseline: { ...state.counters, sequences: build.sequences ?? null },
    });
    const comment = encodePoolMarker(marker);
    await client.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(comment)}`);
    created = { name, oid: oids.clone, comment, marker };
    return created;
  } catch (error) {
    await dropQuietly(client, name);
    throw error;
  } finally {
    // A separate statement after the COMMENT has committed: a reaper never sees the database
    // unmarked without this session still claiming it. Only then do other pools hear of it, so
    // none claims it while this session still counts as making it.
    await client.query(`SET application_name = ${quoteLiteral(ownerApplicationName())}`).catch(() => undefined);
    if (created) await client.query(notifySql('ready', build.name)).catch(() => undefined);
  }
}

async function dropQuietly(client: pg.Client, name: string): Promise<void> {
  await client.query(dropStatement(name)).catch(() => undefined);
}

/** What held a lease() up when it timed out (see leaseTimeoutError). */
export interface LeaseWaitFacts {
  template: string;
  timeoutMs: number;
  /** The server's numbers at the pool's last reservation attempt. */
  cap: CapSnapshot | undefined;
  leasedHere: number;
  /** Released by this process and being dropped. */
  dropping: number;
  lastError: unknown;
  creating: number;
  waiting: number;
}

/** The POOL_TIMEOUT error: the cap and who fills it, the last failure, or clones too slow, in numbers. */
export function leaseTimeoutError(facts: LeaseWaitFacts): DbfastError {
  const head = `no database from ${facts.template} within ${Math.round(facts.timeoutMs / 100) / 10} s`;
  const cap = facts.cap;
  if (cap && cap.total >= cap.maxClones) {
    const byState = (state: string): number => cap.server.databases.filter((database) => database.state === state).length;
    const others = Math.max(0, byState('lease') - facts.leasedHere - facts.dropping);
    return new DbfastError(
      'POOL_TIMEOUT',
      `${head}: the server holds ${cap.total} pooled databases and max_clones is ${cap.maxClones} (${facts.leasedHere} leased by this process, ${facts.dropping > 0 ? `${facts.dropping} released by it and being dropped, ` : ''}${others} by others, ${byState('ready')} ready, ${byState('trash')} to drop, ${inFlight(cap.server).length} being made)`,
      {
        hint: 'Release every lease when its test ends (await lease.release()), raise [pool] max_clones (createPool({ maxClones })), or drop what crashed processes left with `dbfast drop --stale`.',
        details: { maxClones: cap.maxClones, total: cap.total },
      },
    );
  }
  if (facts.lastError) {
    return new DbfastError('POOL_TIMEOUT', `${head}: the last attempt to make one failed: ${errorMessage(facts.lastError)}`, {
      hint: 'Fix the cause above; `dbfast pool status` shows the pool.',
      cause: facts.lastError,
    });
  }
  return new DbfastError('POOL_TIMEOUT', `${head}: clones are not made fast enough (${facts.creating} being made, ${facts.waiting} waiting)`, {
    hint: 'Raise [pool] lease_timeout_seconds, or [pool] size so more are ready in advance.',
  });
}
