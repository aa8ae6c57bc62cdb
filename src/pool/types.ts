import type { Logger } from '../logger.js';
import type { DatabaseSetting } from '../pg/db-properties.js';
import type { DbTarget } from '../pg/target.js';
import type pg from 'pg';
import type { PoolMarker, PoolOwner } from './marker.js';
import type { PooledDatabase } from './server.js';

/**
 * Whether a pooled database is this project's (local/pool-template.ts decides: the project its
 * marker names, else its template's when it was made after that template). The pool only ever
 * drops its own project's databases, whatever their template is called.
 */
export type PooledOwnership = (database: PooledDatabase) => boolean;

/** How CREATE DATABASE copies (see local/strategy.ts); undefined on servers before 15. */
export type PoolCloneStrategy = 'wal_log' | 'file_copy' | undefined;

/**
 * The template as src/index.ts hands it to the pool after ensuring it through src/local/ (the
 * pool never builds): its name and what identifies this build of it.
 */
export interface EnsuredTemplate {
  name: string;
  environment: string;
  builtAt: string;
  sizeBytes: number | null;
  strategy: PoolCloneStrategy;
  /** Advisory-lock key builds of this template hold: a lease waits while it is held. */
  buildLockKey: string;
  /** Folders (and the config file) whose changes may make the template stale. */
  watchPaths: string[];
  /** The project the template is (local/owner.ts): recorded in every pooled database's marker. */
  owner?: PoolOwner | undefined;
  /**
   * The template's per-database settings (its manifest's): `CREATE DATABASE ... TEMPLATE` does
   * not copy pg_db_role_setting, so every ready database is given them. Undefined: read from the
   * template itself.
   */
  settings?: readonly DatabaseSetting[] | undefined;
}

/** One build of the template, as the pool uses it: the ensured template plus its pg_database oid. */
export interface TemplateBuild extends EnsuredTemplate {
  oid: number;
  /** Sequence fingerprint of a fresh clone of this build, once measured (see changes.ts). */
  sequences?: string | null | undefined;
}

/** Everything a pool needs, resolved by src/index.ts from the config and the caller's options. */
export interface PoolSettings {
  /** The local server (admin connection; its database holds the pool's advisory locks). */
  target: DbTarget;
  environment: string;
  /** Ready databases to keep. */
  size: number;
  /** Pooled databases (ready, leased, being dropped or made) the server may hold at once, counted across every pool on it. */
  maxClones: number;
  leaseTimeoutMs: number;
  /** Builds the template when stale and says which build is current. */
  ensureTemplate: () => Promise<EnsuredTemplate>;
  /** Which pooled databases are this project's: the pool reaps leftovers of these, never another project's. */
  owns: PooledOwnership;
  /** Watch the SQL files and rebuild on change (default true). */
  watch: boolean;
  /**
   * Changed databases are renamed `__dbfast_trash_` for a long-lived pool (or the next one) to
   * drop, instead of dropped by this one: for one-off leases in processes that may exit at once.
   */
  handOffDrops: boolean;
  logger: Logger;
}

/** node-postgres / libpq connection fields of a leased database. */
export interface LeaseConnection {
  host: string | undefined;
  port: number | undefined;
  user: string | undefined;
  /** Undefined when the password comes from PGPASSWORD or ~/.pgpass (drivers read those themselves) or none is needed. */
  password: string | undefined;
  database: string;
}

export interface ReleaseOptions {
  /** Keep the database (renamed `<template>__dbfast_kept_<hex>`) instead of recycling or dropping it. */
  keep?: boolean | undefined;
}

export interface ReleaseResult {
  /** The name the database has now (kept), or had (recycled: it is back in the pool under a new name; dropped). */
  database: string;
  /** recycled: provably unchanged, back in the pool; dropped: changed (or stale), dropped off the caller's path; kept: still there. */
  outcome: 'recycled' | 'dropped' | 'kept';
  /** Why it was not recycled; null when it was. */
  reason: string | null;
  /** For kept databases: where it is (password masked). */
  url: string | null;
  durationMs: number;
}

/** A database handed out by `Pool.lease()`: it exists, is complete, and comes from the current template. */
export interface Lease {
  readonly database: string;
  /**
   * A connectable URL, password included (when the config gives one), so application code can
   * pass it straight to its driver. Do not log it.
   */
  readonly url: string;
  readonly connection: LeaseConnection;
  readonly template: { name: string; environment: string; builtAt: string };
  /**
   * Ends every session still on the database, then puts it back (provably unchanged), drops it
   * in the background (changed), or keeps it (`keep: true`). Calling it again returns the first result.
   */
  release(options?: ReleaseOptions): Promise<ReleaseResult>;
}

/** What `Pool.stats()` reports. */
export interface PoolStats {
  template: string;
  environment: string;
  templateBuiltAt: string;
  size: number;
  maxClones: number;
  /** Ready databases of the current build this pool knows of (other processes may take them first). */
  ready: number;
  /** Leases this pool has handed out and not had back. */
  leased: number;
  /** Databases this pool is making right now. */
  creating: number;
  /** lease() calls waiting for a database. */
  waiting: number;
  served: number;
  recycled: number;
  dropped: number;
  created: number;
}

export interface CloseOptions {
  /** Also drop the ready databases of this pool's template (default: leave them for the next pool or `dbfast seed`). */
  drain?: boolean | undefined;
}

/** A warm pool of ready clones of one environment's template (see `createPool`). */
export interface Pool {
  lease(): Promise<Lease>;
  stats(): PoolStats;
  /** Drops this pool's leases still out, waits for its pending drops, closes its connections. */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * What the refiller needs of its pool (WarmPool in pool.ts implements it): declared apart from
 * both, so refill.ts does not import pool.ts, which imports it.
 */
export interface RefillHost {
  readonly settings: PoolSettings;
  readonly build: TemplateBuild;
  readonly control: pg.Client;
  readonly work: pg.Client;
  readonly closed: boolean;
  /** lease() calls waiting for a database. */
  readonly wanting: number;
  /** The template is being checked: nothing is made or handed out meanwhile. */
  readonly stale: boolean;
  readonly leases: { readonly size: number };
  readonly counters: { created: number };
  /** Reconnects when the server ended the pool's sessions. */
  ensureSessions(): Promise<void>;
  refreshSoon(): void;
  wakeWaiters(): void;
  failWaiters(error: unknown): void;
}

/** A ready database of the current template build, as last seen (another process may take it first). */
export interface ReadyHint {
  name: string;
  oid: number;
  comment: string | null;
  marker: PoolMarker;
  addedAt: number;
}
