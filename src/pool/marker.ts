import os from 'node:os';
import { processStartTime } from '../server/postmaster.js';
import { dbfastVersion } from '../version.js';
import type { ChangeBaseline } from './changes.js';

/**
 * The comment a pooled database carries from the moment it is complete (the statement after its
 * CREATE DATABASE): a database with a pool name and no such comment is still being made, or the
 * orphan of a process killed in between. `dbfast list` and `drop` recognise the prefix.
 */
export const POOL_MARKER = 'dbfast:pool:v1 ';

/**
 * The project a pooled database belongs to: local/owner.ts's `ProjectOwner` (pool/ sits below
 * local/, so local/ hands it over through `EnsuredTemplate.owner` and reads it back in list.ts).
 */
export interface PoolOwner {
  id: string;
  /** The folder of the project's dbfast.toml. */
  path: string;
}

export interface PoolMarker {
  template: string;
  environment: string;
  /** pg_database.oid of the template it was cloned from: a rebuilt template has a new oid, so its old clones are stale. */
  templateOid: number;
  templateBuiltAt: string;
  createdAt: string;
  /** The process that made it; who holds it now is the lease lock's session (see names.ts). */
  createdBy: { pid: number; host: string };
  dbfastVersion: string;
  /** What "unchanged" is measured against (see changes.ts). */
  baseline: ChangeBaseline;
  /** The project whose pool made it (local/owner.ts); absent on databases made before owners were recorded. */
  owner?: PoolOwner | undefined;
  /**
   * The process that leased it last (written by the claim). The lease lock says who holds it
   * while the server runs; after a server restart every lock is gone, and this is how a reaper
   * on the same host tells a live test process from a dead one.
   */
  leasedBy?: PoolLessee | undefined;
}

/** A process that leased a database: its pid and host, and when it started (telling it from a later process given the same pid). */
export interface PoolLessee {
  pid: number;
  host: string;
  /** processStartTime of the lessee; absent where the system does not tell (then the pid alone decides). */
  started?: string | undefined;
}

/** The marker with this process as the lessee: the comment a claim gives the database. */
export function leasedMarker(marker: PoolMarker): PoolMarker {
  return { ...marker, leasedBy: { pid: process.pid, host: os.hostname(), started: processStartTime(process.pid) } };
}

export function encodePoolMarker(marker: PoolMarker): string {
  return `${POOL_MARKER}${JSON.stringify(marker)}`;
}

export function decodePoolMarker(comment: string | null | undefined): PoolMarker | undefined {
  if (!comment?.startsWith(POOL_MARKER)) return undefined;
  try {
    const marker = JSON.parse(comment.slice(POOL_MARKER.length)) as PoolMarker;
    return typeof marker.templateOid === 'number' && typeof marker.baseline === 'object' && marker.baseline !== null ? marker : undefined;
  } catch {
    return undefined;
  }
}

export function newMarker(fields: Pick<PoolMarker, 'template' | 'environment' | 'templateOid' | 'templateBuiltAt' | 'baseline' | 'owner'>): PoolMarker {
  return { ...fields, createdAt: new Date().toISOString(), createdBy: { pid: process.pid, host: os.hostname() }, dbfastVersion: dbfastVersion() };
}
