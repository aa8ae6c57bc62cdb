import type pg from 'pg';
import { localTarget } from '../server/managed.js';
import { withClient } from '../pg/client.js';
import type { DbfastConfig } from '../config/types.js';
import { noticeLeftovers, type BackgroundMode } from './background.js';
import { commentOwner, decodeBuild, decodeClone, decodeManifest, decodeSpare } from './manifest.js';
import { parseSideName, templateDatabaseName } from './names.js';
import { isOwnedBy, projectOwner, type ProjectOwner } from './owner.js';
import { findSideDatabases } from './reap.js';
import { decodePoolMarker } from '../pool/marker.js';
import { parsePoolName } from '../pool/names.js';

/**
 * `template`: an environment's template (what seed clones); `layer`: the template of a layer
 * below one (see layers.ts); `spare`: a ready copy a build renames instead of copying
 * (spare.ts); `clone`: a database seed made; `leftover`: what an interrupted command left, or a
 * replaced template, which the background worker drops; `pool`: a ready, leased or
 * to-be-dropped database of a pool (see src/pool/; one kept with `keep: true` lists as a clone).
 */
export type DatabaseKind = 'template' | 'layer' | 'spare' | 'clone' | 'leftover' | 'pool';

/** A database dbfast made, as `dbfast list` shows it. */
export interface DbfastDatabase {
  name: string;
  kind: DatabaseKind;
  environment: string | null;
  /** For clones, the template they came from; for spares, the template they copy; for templates, layers and leftovers, the template itself. */
  template: string | null;
  /** Layers only: the environments' templates built on it. */
  layerOf?: string[];
  /** Templates only: the layer templates below it, bottom first (as its manifest records them). */
  layers?: string[];
  sizeBytes: number | null;
  /** Template: built_at; clone: when it was seeded. */
  createdAt: string | null;
  /** Made from (or being) one of this config's templates. */
  project: boolean;
  /** The project that made it, when recorded (see owner.ts). */
  owner: ProjectOwner | null;
  /** Leftovers only: a running dbfast process is still working on it (it is not dropped). */
  inUse?: boolean;
}

/** Options of `list`. */
export interface ListOptions {
  config: DbfastConfig;
  /** Where clean-up of leftovers this command notices runs (see local/background.ts). */
  background?: BackgroundMode | undefined;
}

/** What `dbfast list` prints. */
export interface ListResult {
  databases: DbfastDatabase[];
}

/** The templates of every environment in the config. */
export function projectTemplates(config: DbfastConfig): Set<string> {
  return new Set(Object.keys(config.environments).map((name) => templateDatabaseName(config, name)));
}

interface Row {
  datname: string;
  comment: string | null;
  size: string | null;
}

/**
 * Every database on the server that carries a dbfast marker, and this project's side databases
 * (recognisable by name even when an interrupt left them unmarked): nothing else is ever listed.
 */
export async function readDbfastDatabases(client: pg.Client, config: DbfastConfig): Promise<DbfastDatabase[]> {
  const owner = projectOwner(config);
  const sides = new Map((await findSideDatabases(client, owner)).map((side) => [side.name, side]));
  const result = await client.query<Row>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment,
            CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END AS size
       FROM pg_database
      WHERE starts_with(shobj_description(oid, 'pg_database'), 'dbfast:') OR datname = ANY($1::text[])
      ORDER BY datname`,
    [[...sides.keys()]],
  );
  const ours = projectTemplates(config);
  const out: DbfastDatabase[] = [];
  for (const row of result.rows) {
    const sizeBytes = row.size === null ? null : Number(row.size);
    const manifest = decodeManifest(row.comment);
    const clone = decodeClone(row.comment);
    const build = decodeBuild(row.comment);
    const spare = decodeSpare(row.comment);
    const side = parseSideName(row.datname);
    const pooled = decodePoolMarker(row.comment);
    const recorded = commentOwner(row.comment) ?? pooled?.owner ?? null;
    const common = { name: row.datname, sizeBytes, owner: recorded };
    if (pooled) {
      const kind = parsePoolName(row.datname)?.state === 'kept' ? 'clone' : 'pool';
      out.push({ ...common, kind, environment: pooled.environment, template: pooled.template, createdAt: pooled.createdAt, project: ours.has(pooled.template) && isOwnedBy(pooled.owner, owner) });
    } else if (manifest && side === undefined && manifest.role === 'layer') {
      out.push({ ...common, kind: 'layer', environment: manifest.environment, template: row.datname, createdAt: manifest.builtAt, project: recorded !== null && isOwnedBy(recorded, owner), layerOf: [] });
    } else if (manifest && side === undefined) {
      const below = (manifest.layers ?? []).map((record) => record.template).filter((name) => name !== row.datname);
      out.push({ ...common, kind: 'template', environment: manifest.environment, template: row.datname, createdAt: manifest.builtAt, project: ours.has(row.datname), layers: below });
    } else if (clone && side === undefined) {
      out.push({ ...common, kind: 'clone', environment: clone.environment, template: clone.template, createdAt: clone.createdAt, project: ours.has(clone.template) });
    } else if (spare && side?.kind === 'spare') {
      out.push({ ...common, kind: 'spare', environment: null, template: spare.source, createdAt: spare.createdAt, project: recorded !== null && isOwnedBy(recorded, owner) });
    } else if (side !== undefined && (manifest || build || clone || sides.has(row.datname))) {
      const template = side.base;
      out.push({
        ...common,
        kind: 'leftover',
        environment: manifest?.environment ?? clone?.environment ?? null,
        template,
        createdAt: manifest?.builtAt ?? build?.startedAt ?? clone?.createdAt ?? null,
        // An unmarked side database is listed only when its name's check says it is this project's.
        project: ours.has(template) || (recorded === null && sides.has(row.datname)),
        inUse: sides.get(row.datname)?.inUse ?? false,
      });
    }
  }
  // Which environments' templates stand on each layer template: their manifests list their layers.
  const layers = new Map(out.filter((database) => database.kind === 'layer').map((database) => [database.name, database]));
  for (const row of result.rows) {
    const manifest = decodeManifest(row.comment);
    if (manifest?.role === 'layer' || parseSideName(row.datname)) continue;
    for (const record of manifest?.layers ?? []) layers.get(record.template)?.layerOf?.push(row.datname);
  }
  return out;
}

/**
 * Whether a listed database is this project's: decided by the project its marker records (two
 * projects on one server may share a template_name); one with none recorded (made before owners
 * were recorded, or an unmarked side database) by `project`.
 */
export function ofThisProject(database: DbfastDatabase, owner: ProjectOwner): boolean {
  return database.owner === null ? database.project : isOwnedBy(database.owner, owner);
}

/** `dbfast list`: the databases dbfast made on the local server. */
export async function list(options: ListOptions): Promise<ListResult> {
  const target = await localTarget(options.config);
  const databases = await withClient(target, async (client) => {
    const found = await readDbfastDatabases(client, options.config);
    await noticeLeftovers(client, { config: options.config }, target, { mode: options.background });
    return found;
  });
  return { databases };
}
