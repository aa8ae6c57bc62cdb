import type pg from 'pg';
import type { Logger } from '../logger.js';
import { renameStatement } from '../pg/catalog.js';
import { quoteIdent, quoteLiteral } from '../pg/quote.js';
import type { DbTarget } from '../pg/target.js';
import { openSession } from './connections.js';
import { CAPPED_NAME_REGEX } from './names.js';
import { createReady, reserve } from './create.js';
import { dropPooled, notifySql } from './ops.js';
import { cappedCount, inFlight, readServerPool, readyFor, reapReason, templateSnapshot, type PooledDatabase, type ServerPool } from './server.js';
import type { EnsuredTemplate, PooledOwnership, TemplateBuild } from './types.js';

/**
 * The pool without a long-lived process: what `dbfast seed`, `dbfast pool fill|drain|status` and
 * `dbfast drop --stale` do with the ready databases on the server.
 */

export interface DroppedPooled {
  name: string;
  template: string;
  reason: string;
}

/** What crashed or finished processes of this project left (by owner, whatever the template is called): every pooled database `reapReason` calls garbage. */
export function reapable(server: ServerPool, owns: PooledOwnership): Array<{ database: PooledDatabase; reason: string }> {
  const out: Array<{ database: PooledDatabase; reason: string }> = [];
  for (const database of server.databases) {
    if (!owns(database)) continue;
    const reason = reapReason(database, server);
    if (reason) out.push({ database, reason });
  }
  return out;
}

/** Drops each database once, under the first reason it was given (a list never names one twice). */
async function dropAll(client: pg.Client, doomed: Array<{ database: PooledDatabase; reason: string }>): Promise<DroppedPooled[]> {
  const dropped: DroppedPooled[] = [];
  for (const { database, reason } of doomed) {
    if (dropped.some((entry) => entry.name === database.name)) continue;
    const cleared = await dropPooled(client, database.name, database.template);
    // What had to be cleared first (a prepared transaction rolled back) is said with the reason.
    dropped.push({ name: database.name, template: database.template, reason: cleared.length === 0 ? reason : `${reason}; ${cleared.join('; ')}` });
  }
  return dropped;
}

/** `dbfast drop --stale`: drops this project's pooled leftovers (never a live process's lease, never a kept one, never another project's). */
export async function reapStale(client: pg.Client, owns: PooledOwnership): Promise<DroppedPooled[]> {
  return dropAll(client, reapable(await readServerPool(client), owns));
}

/** A pooled database a sweep left where it was: a running process holds or is making it. */
export interface SparedPooled {
  name: string;
  template: string;
  reason: string;
}

/**
 * `dbfast drop` of a template: drops this project's pooled databases of these templates (ready
 * ones, which nobody could lease once the template is gone, and the garbage `reapReason` names),
 * and names those it leaves: leases a running process holds, and databases being made (both are
 * garbage once their process is done, for the next pool or `drop --stale`).
 */
export async function sweepTemplates(client: pg.Client, owns: PooledOwnership, templates: readonly string[]): Promise<{ dropped: DroppedPooled[]; spared: SparedPooled[] }> {
  const server = await readServerPool(client);
  const doomed: Array<{ database: PooledDatabase; reason: string }> = [];
  const spared: SparedPooled[] = [];
  for (const database of server.databases) {
    if (!templates.includes(database.template) || database.state === 'kept' || !owns(database)) continue;
    const reason = reapReason(database, server);
    if (reason) doomed.push({ database, reason });
    else if (database.state === 'ready' && database.marker) doomed.push({ database, reason: `its template ${database.template} is dropped` });
    else if (database.state === 'ready') spared.push({ name: database.name, template: database.template, reason: 'being made by a running process' });
    else spared.push({ name: database.name, template: database.template, reason: `leased by ${database.holder?.application ?? (database.holder ? `pid ${database.holder.pid}` : 'a running process')}` });
  }
  return { dropped: await dropAll(client, doomed), spared };
}

/**
 * `dbfast seed` from the pool: renames a ready database of the template's current build to
 * `output` (a catalog update, whatever the size) and gives it `comment`, in one transaction (one
 * WAL flush). Tries the next one when another process took it first. False when none is ready.
 */
export async function takeReady(client: pg.Client, template: string, output: string, comment: string): Promise<boolean> {
  const server = await readServerPool(client);
  const current = server.databases.find((database) => database.template === template)?.templateOidNow;
  if (current === undefined || current === null) return false;
  for (const ready of readyFor(server, template, current)) {
    try {
      await client.query(
        [renameStatement(ready.name, output), `COMMENT ON DATABASE ${quoteIdent(output)} IS ${quoteLiteral(comment)}`, notifySql('claimed', template)].join(';\n'),
      );
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      // Gone (claimed by someone else) or someone connected to it: try the next one.
      if (code !== '3D000' && code !== '55006') throw error;
    }
  }
  return false;
}

export interface FillOptions {
  target: DbTarget;
  template: EnsuredTemplate;
  size: number;
  maxClones: number;
  /** Which pooled databases are this project's (the fill drops their leftovers first). */
  owns: PooledOwnership;
  logger: Logger;
}

export interface FillResult {
  template: string;
  environment: string;
  /** Ready databases of the current build now. */
  ready: number;
  size: number;
  created: string[];
  dropped: DroppedPooled[];
  /** True when max_clones stopped the fill short of `size`. */
  capped: boolean;
}

/** `dbfast pool fill` (and the background refill after a seed): drops leftovers, then makes ready databases up to `size`. */
export async function fillShelf(options: FillOptions): Promise<FillResult> {
  const client = await openSession(options.target);
  try {
    const dropped = await reapStale(client, options.owns);
    const { oid } = await templateSnapshot(client, options.template.name, options.template.buildLockKey);
    const created: string[] = [];
    let capped = false;
    if (oid !== null) {
      const build: TemplateBuild = { ...options.template, oid };
      for (;;) {
        const reservation = await reserve(client, build, options.size, options.maxClones);
        if (reservation.hex === undefined) {
          capped = reservation.full && reservation.snapshot.ready < options.size;
          break;
        }
        options.logger.progress({ phase: `making ready databases of ${build.name}`, done: reservation.snapshot.ready, total: options.size });
        const database = await createReady(client, options.target, build, reservation.hex);
        if (!database) break;
        created.push(database.name);
      }
    }
    const server = await readServerPool(client);
    const ready = oid === null ? 0 : readyFor(server, options.template.name, oid).length;
    return { template: options.template.name, environment: options.template.environment, ready, size: options.size, created, dropped, capped };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** `dbfast pool drain`: drops this project's ready databases and leftovers of these templates; leases of live processes stay. */
export async function drainShelf(target: DbTarget, owns: PooledOwnership, templates: readonly string[]): Promise<DroppedPooled[]> {
  const client = await openSession(target);
  const ours: PooledOwnership = (database) => templates.includes(database.template) && owns(database);
  try {
    const server = await readServerPool(client);
    const leftovers = reapable(server, ours);
    const ready = server.databases
      .filter((database) => ours(database) && database.state === 'ready' && database.marker && !leftovers.some((leftover) => leftover.database === database))
      .map((database) => ({ database, reason: 'drained' }));
    return await dropAll(client, [...leftovers, ...ready]);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface PooledDatabaseStatus {
  name: string;
  template: string;
  environment: string | null;
  state: 'ready' | 'leased' | 'trash' | 'kept' | 'making';
  /** Ready databases of an older template build, leases of dead processes, half-made ones. */
  stale: boolean;
  reason: string | null;
  /** Who holds a lease: the application_name of the holding session ("dbfast pool PID@HOST"). */
  heldBy: string | null;
  sizeBytes: number | null;
  createdAt: string | null;
}

export interface ServerPoolStatus {
  /** Pooled databases on the server, all projects, as counted against max_clones (kept ones excluded). */
  total: number;
  /** Databases being made right now (all projects). */
  making: number;
  databases: PooledDatabaseStatus[];
}

/**
 * What a test left in pooled databases that stands in the way of dropping them (the next drop
 * clears it, or says why it cannot), by database: status names it beside a stale one's reason.
 */
async function dropBlockers(client: pg.Client): Promise<Map<string, string>> {
  const result = await client.query<{ datname: string; template: boolean; gids: string[] }>(
    `SELECT d.datname, d.datistemplate AS template, coalesce(array_agg(p.gid ORDER BY p.prepared) FILTER (WHERE p.gid IS NOT NULL), '{}') AS gids
       FROM pg_database AS d LEFT JOIN pg_prepared_xacts AS p ON p.database = d.datname
      WHERE d.datname ~ $1 AND (d.datistemplate OR p.gid IS NOT NULL)
      GROUP BY d.datname, d.datistemplate`,
    [CAPPED_NAME_REGEX],
  );
  const blockers = new Map<string, string>();
  for (const row of result.rows) {
    const causes = [...(row.template ? ['marked IS_TEMPLATE'] : []), ...row.gids.map((gid) => `holds the prepared transaction ${quoteLiteral(gid)} (ROLLBACK PREPARED in it)`)];
    blockers.set(row.datname, causes.join(', '));
  }
  return blockers;
}

/** `dbfast pool status`: this project's pooled databases of these templates (with sizes) and the server's count. */
export async function readPoolStatus(target: DbTarget, owns: PooledOwnership, templates: readonly string[]): Promise<ServerPoolStatus> {
  const client = await openSession(target);
  try {
    const server = await readServerPool(client, { sizes: true });
    const blockers = await dropBlockers(client);
    const databases = server.databases
      .filter((database) => templates.includes(database.template) && owns(database))
      .map((database): PooledDatabaseStatus => {
        const reaped = reapReason(database, server);
        const blocked = blockers.get(database.name);
        const reason = reaped === undefined ? null : blocked ? `${reaped}; ${blocked}` : reaped;
        const state = database.state === 'lease' ? 'leased' : database.state === 'ready' && !database.marker ? 'making' : database.state;
        return {
          name: database.name,
          template: database.template,
          environment: database.marker?.environment ?? null,
          state,
          stale: reason !== null && database.state !== 'trash',
          reason,
          heldBy: database.holder?.application ?? (database.holder ? `pid ${database.holder.pid}` : null),
          sizeBytes: database.sizeBytes,
          createdAt: database.marker?.createdAt ?? null,
        };
      });
    return { total: cappedCount(server), making: inFlight(server).length, databases };
  } finally {
    await client.end().catch(() => undefined);
  }
}
