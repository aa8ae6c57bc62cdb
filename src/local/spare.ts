import type pg from 'pg';
import type { Logger } from '../logger.js';
import { changeDatabases, dropDatabase } from '../pg/catalog.js';
import { advisoryUnlock, tryAdvisoryLock } from '../pg/lock.js';
import type { DbTarget } from '../pg/target.js';
import { BUILD_MARKER, SPARE_MARKER, decodeSpare, encodeComment, type SpareMarker } from './manifest.js';
import { MAX_BASE_BYTES, byteLength, parseSideName, sideLockKey, sideName } from './names.js';
import type { ProjectOwner } from './owner.js';
import { createSideDatabase, type SideDatabase } from './side.js';

/**
 * A spare is a copy of a template made in the background after a build, so that the next build
 * starting from that template renames the spare into its side database (a catalog update)
 * instead of copying the template while the user waits (hundreds of milliseconds, more for big
 * templates). dbfast keeps a spare of the template below each environment's last layer (what
 * the next edit of that layer starts from) and one empty one (a copy of template0, what a
 * build from scratch starts from). It costs that template's size on disk once.
 */
export const EMPTY_SOURCE = 'template0';

/** The name spares of `source` are made under: the source template's own name, or `<template_name>__empty`. */
export function spareBase(templateName: string, source: string): string {
  if (source !== EMPTY_SOURCE) return source;
  let base = '';
  for (const char of templateName) {
    if (byteLength(`${base}${char}__empty`) > MAX_BASE_BYTES) break;
    base += char;
  }
  return `${base}__empty`;
}

/** A finished spare on the server. */
export interface Spare {
  name: string;
  marker: SpareMarker;
}

/** This project's finished spares on the server. */
export async function findSpares(client: pg.Client, owner: ProjectOwner): Promise<Spare[]> {
  const result = await client.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname ~ '__dbfast_spare_[0-9a-f]{8}$'`,
  );
  const spares: Spare[] = [];
  for (const row of result.rows) {
    const marker = decodeSpare(row.comment);
    if (marker && parseSideName(row.datname, owner)?.ours) spares.push({ name: row.datname, marker });
  }
  return spares;
}

/** A spare the rule no longer wants, and why. */
export interface StaleSpare {
  name: string;
  reason: string;
}

/**
 * The rule for spares: a project keeps one spare of each template that is below an environment's
 * last layer, made from that template's current identity, and one empty spare (of template0), each
 * named for its source under the current template_name (the only names a build adopts: see
 * adoptSpare). Every other spare of the project is stale: of a template no environment builds on
 * any more, of an older build of it, named for an earlier template_name, or a second one.
 * `wanted` maps each wanted source to its identity (EMPTY_SOURCE to itself).
 */
export function staleSpares(spares: readonly Spare[], templateName: string, wanted: ReadonlyMap<string, string>): StaleSpare[] {
  const kept = new Set<string>();
  const stale: StaleSpare[] = [];
  const what = (source: string): string => (source === EMPTY_SOURCE ? 'the empty template' : source);
  // Oldest first, so the one a build is most likely to adopt next is the one kept.
  for (const spare of [...spares].sort((a, b) => a.marker.createdAt.localeCompare(b.marker.createdAt) || a.name.localeCompare(b.name))) {
    const { source, sourceIdentity } = spare.marker;
    const identity = wanted.get(source);
    const prefix = `${spareBase(templateName, source)}__dbfast_spare_`;
    let reason: string | undefined;
    if (identity === undefined) reason = `a spare of ${source}, which no environment builds on any more`;
    else if (identity !== sourceIdentity) reason = `a spare of an older build of ${source}`;
    else if (!spare.name.startsWith(prefix)) reason = `a spare of ${what(source)} named for another template_name (builds adopt only ${prefix}*)`;
    else if (kept.has(source)) reason = `a second spare of ${what(source)}`;
    if (reason) stale.push({ name: spare.name, reason });
    else kept.add(source);
  }
  return stale;
}

/**
 * Takes a spare of `source` (identity `sourceIdentity`) as a build's side database named for
 * `base`: one transaction renames it, marks it as a build and opens it to connections.
 * Undefined when there is none (the caller copies the template instead).
 */
export async function adoptSpare(client: pg.Client, spec: { templateName: string; source: string; sourceIdentity: string; base: string; owner: ProjectOwner }): Promise<SideDatabase | undefined> {
  const prefix = `${spareBase(spec.templateName, spec.source)}__dbfast_spare_`;
  const candidates = (await findSpares(client, spec.owner)).filter(
    (spare) => spare.name.startsWith(prefix) && spare.marker.source === spec.source && spare.marker.sourceIdentity === spec.sourceIdentity,
  );
  for (const spare of candidates) {
    // Another build may be taking the same spare: whoever holds its lock has it.
    if (!(await tryAdvisoryLock(client, sideLockKey(spare.name)))) continue;
    const name = sideName(spec.base, 'build', spec.owner);
    try {
      if (!(await tryAdvisoryLock(client, sideLockKey(name)))) continue;
      const started = performance.now();
      await changeDatabases(client, [
        { kind: 'comment', database: spare.name, comment: encodeComment(BUILD_MARKER, { template: spec.base, startedAt: new Date().toISOString(), owner: spec.owner }) },
        { kind: 'connections', database: spare.name, allow: true },
        { kind: 'rename', from: spare.name, to: name },
      ]);
      return { name, createMs: performance.now() - started, release: () => advisoryUnlock(client, sideLockKey(name)).catch(() => undefined) };
    } catch {
      // Gone meanwhile (dropped by a worker): try the next one, or copy.
      await advisoryUnlock(client, sideLockKey(name)).catch(() => undefined);
    } finally {
      await advisoryUnlock(client, sideLockKey(spare.name)).catch(() => undefined);
    }
  }
  return undefined;
}

/** Makes a spare of `source` unless one exists; returns its name, or undefined when there already was one. */
export async function ensureSpare(
  client: pg.Client,
  target: DbTarget,
  spec: { templateName: string; source: string; sourceIdentity: string; owner: ProjectOwner; serverVersion: number },
  logger: Logger,
): Promise<string | undefined> {
  const base = spareBase(spec.templateName, spec.source);
  const existing = (await findSpares(client, spec.owner)).some((spare) => spare.name.startsWith(`${base}__dbfast_spare_`) && spare.marker.sourceIdentity === spec.sourceIdentity);
  if (existing) return undefined;
  const side = await createSideDatabase(client, target, {
    base,
    kind: 'spare',
    owner: spec.owner,
    source: spec.source,
    strategy: spec.serverVersion >= 150000 ? 'wal_log' : undefined,
  });
  try {
    const marker: SpareMarker = { source: spec.source, sourceIdentity: spec.sourceIdentity, createdAt: new Date().toISOString(), owner: spec.owner };
    await changeDatabases(client, [
      { kind: 'connections', database: side.name, allow: false },
      { kind: 'comment', database: side.name, comment: encodeComment(SPARE_MARKER, marker) },
    ]);
    logger.info(`made spare ${side.name} of ${spec.source}`);
    return side.name;
  } catch (error) {
    await dropDatabase(client, side.name).catch(() => undefined);
    throw error;
  } finally {
    await side.release();
  }
}
