import type pg from 'pg';
import { localTarget } from '../server/managed.js';
import { withClient } from '../pg/client.js';
import type { DbfastConfig } from '../config/types.js';
import { decodeBuild, decodeClone, decodeManifest } from './manifest.js';
import { leftoverOwner, templateDatabaseName } from './names.js';
import { decodePoolMarker } from '../pool/marker.js';
import { parsePoolName } from '../pool/names.js';

/** `pool`: a ready, leased or to-be-dropped database of a pool (see src/pool/); a pooled database kept with `keep: true` lists as a clone. */
export type DatabaseKind = 'template' | 'clone' | 'leftover' | 'pool';

export interface DbfastDatabase {
  name: string;
  kind: DatabaseKind;
  environment: string | null;
  /** For clones, the template they came from; for templates and leftovers, the template itself. */
  template: string | null;
  sizeBytes: number | null;
  /** Template: built_at; clone: when it was seeded. */
  createdAt: string | null;
  /** Made from (or being) one of this config's templates. */
  project: boolean;
}

export interface ListOptions {
  config: DbfastConfig;
}

export interface ListResult {
  databases: DbfastDatabase[];
}

/** The templates of every environment in the config. */
export function projectTemplates(config: DbfastConfig): Set<string> {
  return new Set(Object.keys(config.environments).map((name) => templateDatabaseName(config, name)));
}

interface Row {
  datname: string;
  comment: string;
  size: string | null;
}

/** Every database on the server that carries a dbfast marker: nothing else is ever listed. */
export async function readDbfastDatabases(client: pg.Client, config: DbfastConfig): Promise<DbfastDatabase[]> {
  const result = await client.query<Row>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment,
            CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END AS size
       FROM pg_database
      WHERE starts_with(shobj_description(oid, 'pg_database'), 'dbfast:')
      ORDER BY datname`,
  );
  const ours = projectTemplates(config);
  const out: DbfastDatabase[] = [];
  for (const row of result.rows) {
    const sizeBytes = row.size === null ? null : Number(row.size);
    const manifest = decodeManifest(row.comment);
    const clone = decodeClone(row.comment);
    const build = decodeBuild(row.comment);
    const owner = leftoverOwner(row.datname);
    const pooled = decodePoolMarker(row.comment);
    if (pooled) {
      const kind = parsePoolName(row.datname)?.state === 'kept' ? 'clone' : 'pool';
      out.push({ name: row.datname, kind, environment: pooled.environment, template: pooled.template, sizeBytes, createdAt: pooled.createdAt, project: ours.has(pooled.template) });
    } else if (manifest && owner === undefined) {
      out.push({ name: row.datname, kind: 'template', environment: manifest.environment, template: row.datname, sizeBytes, createdAt: manifest.builtAt, project: ours.has(row.datname) });
    } else if (clone) {
      out.push({ name: row.datname, kind: 'clone', environment: clone.environment, template: clone.template, sizeBytes, createdAt: clone.createdAt, project: ours.has(clone.template) });
    } else if (manifest || build) {
      const template = owner ?? build?.template ?? null;
      out.push({ name: row.datname, kind: 'leftover', environment: manifest?.environment ?? null, template, sizeBytes, createdAt: manifest?.builtAt ?? build?.startedAt ?? null, project: template !== null && ours.has(template) });
    }
  }
  return out;
}

/** `dbfast list`: the databases dbfast made on the local server. */
export async function list(options: ListOptions): Promise<ListResult> {
  const databases = await withClient(await localTarget(options.config), (client) => readDbfastDatabases(client, options.config));
  return { databases };
}
