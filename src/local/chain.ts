import type pg from 'pg';
import type { DatabaseSetting } from '../pg/db-properties.js';
import { registerCleanup } from '../cleanup.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import type { Logger } from '../logger.js';
import { changeDatabases, readDatabases, terminateSessions, type DatabaseChange } from '../pg/catalog.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { dbfastVersion } from '../version.js';
import { TEMPLATE_MARKER, decodeManifest, encodeComment, type TemplateManifest } from './manifest.js';
import { sideName } from './names.js';
import { isOwnedBy, type ProjectOwner } from './owner.js';
import type { EnvironmentPlan } from './plan.js';
import { readExtensions, runLayer } from './run-layer.js';
import { createSideDatabase, dropSideDatabase, handOver, type SideDatabase } from './side.js';
import { EMPTY_SOURCE, adoptSpare } from './spare.js';

/** What happened to one layer in a build (`build --json` reports these). */
export interface LayerResult {
  label: string;
  /** The database holding this layer's template. */
  template: string;
  /** `reused`: its template was the starting point (or below it); `rebuilt`: its files ran now. */
  state: 'reused' | 'rebuilt';
  files: number;
  /** Time its files took (0 when reused). */
  durationMs: number;
  /** A layer below the last that ran now: its own template is made by the background worker. */
  templateLater: boolean;
}

/** What building a chain of layers needs. */
export interface ChainContext {
  config: DbfastConfig;
  target: DbTarget;
  /** Admin connection (holds the build lock). */
  client: pg.Client;
  plan: EnvironmentPlan;
  serverVersion: number;
  runner: Runner;
  owner: ProjectOwner;
  logger: Logger;
}

/** The manifest of the template holding layers 0..`index` of `plan`. */
export function chainManifest(plan: EnvironmentPlan, index: number, measured: { serverVersion: number; sizeBytes: number; extensions: Record<string, string>; owner: ProjectOwner; settings?: DatabaseSetting[] | undefined }): TemplateManifest {
  const layers = plan.layers.slice(0, index + 1);
  const files = layers.flatMap((layer) => layer.files);
  const last = layers[layers.length - 1];
  const final = index === plan.layers.length - 1;
  // role, identity and owner first: readiness checks read only the head of a manifest (see readLayerHeads).
  return {
    role: final ? 'final' : 'layer',
    identity: last?.identity,
    owner: measured.owner,
    dbfastVersion: dbfastVersion(),
    environment: plan.environment,
    template: final ? plan.template : (last?.template ?? plan.template),
    files: Object.fromEntries(files.map((file) => [file.relativePath, file.sha256])),
    // The environment's template records what its files include, as staleness compares it.
    ...(final && plan.included.length > 0 ? { included: Object.fromEntries(plan.included.map((file) => [file.relativePath, file.sha256])) } : {}),
    // And the cluster setup it was built on (its files are no template files, but the server's roles are what the template's grants name).
    ...(final && plan.clusterSetup.length > 0 ? { clusterSetup: Object.fromEntries(plan.clusterSetup.map((file) => [file.relativePath, file.sha256])) } : {}),
    fileCount: files.length,
    filterHash: plan.filterHash,
    serverVersion: measured.serverVersion,
    builtAt: new Date().toISOString(),
    sizeBytes: measured.sizeBytes,
    layers: layers.map((layer) => ({ label: layer.label, identity: layer.identity, template: layer.template, fileCount: layer.files.length })),
    extensions: measured.extensions,
    // What its files (and its layers') set with ALTER DATABASE / ALTER ROLE ... IN DATABASE.
    settings: measured.settings ?? [],
  };
}

/** How much of a layer template's comment readiness checks read: the marker, role, identity and owner. */
const HEAD_CHARS = 1024;

/**
 * The first part of the comments of `names` (absent ones are missing from the map). A layer
 * template's manifest lists every file below it, so a 1,000-file repository has manifests of
 * hundreds of kilobytes; deciding whether a layer is ready needs only its head.
 */
export async function readLayerHeads(client: pg.Client, names: readonly string[]): Promise<Map<string, string | null>> {
  if (names.length === 0) return new Map();
  const result = await client.query<{ datname: string; head: string | null }>(
    `SELECT datname, left(shobj_description(oid, 'pg_database'), ${HEAD_CHARS}) AS head FROM pg_database WHERE datname = ANY($1::text[])`,
    [names],
  );
  return new Map(result.rows.map((row) => [row.datname, row.head]));
}

const HEAD = /^dbfast:template:v1 \{"role":"(final|layer)","identity":"([0-9a-f]{64})","owner":\{"id":("(?:[^"\\]|\\.)*"),"path":("(?:[^"\\]|\\.)*")\}/;

/**
 * True when `comment` (whole, or the head readLayerHeads reads) is the manifest of this project's
 * template for exactly this layer.
 */
export function isReadyLayer(comment: string | null | undefined, identity: string, owner: ProjectOwner): boolean {
  const head = HEAD.exec(comment ?? '');
  if (head) return head[2] === identity && isOwnedBy({ id: JSON.parse(head[3] as string) as string, path: JSON.parse(head[4] as string) as string }, owner);
  const manifest = decodeManifest(comment);
  return manifest?.identity === identity && isOwnedBy(manifest.owner, owner);
}

/** The deepest layer below the last whose template exists (this project's, same identity); -1 for none. */
export async function deepestReadyLayer(client: pg.Client, plan: EnvironmentPlan, owner: ProjectOwner): Promise<number> {
  const below = plan.layers.slice(0, -1);
  if (below.length === 0) return -1;
  const heads = await readLayerHeads(client, below.map((layer) => layer.template));
  for (let index = below.length - 1; index >= 0; index--) {
    const layer = below[index];
    if (layer && isReadyLayer(heads.get(layer.template), layer.identity, owner)) return index;
  }
  return -1;
}

/** The side database for a build starting above layer `start` (-1: from nothing): a spare if there is one, else a copy. */
async function startSide(ctx: ChainContext, start: number, base: string): Promise<SideDatabase> {
  const from = ctx.plan.layers[start];
  const source = from?.template ?? EMPTY_SOURCE;
  const sourceIdentity = from?.identity ?? EMPTY_SOURCE;
  const spare = await adoptSpare(ctx.client, { templateName: ctx.config.database.templateName, source, sourceIdentity, base, owner: ctx.owner });
  if (spare) return spare;
  // WAL_LOG copies through the WAL: no checkpoint on the way (FILE_COPY forces two).
  const strategy = ctx.serverVersion >= 150000 ? 'wal_log' : undefined;
  return createSideDatabase(ctx.client, ctx.target, { base, kind: 'build', owner: ctx.owner, source, strategy });
}

/**
 * Runs layers `start + 1` .. last into one side database started from layer `start`'s template
 * (each layer in a session of its own), and returns their results and the extensions found.
 */
async function runLayers(ctx: ChainContext, side: string, start: number): Promise<{ results: LayerResult[]; extensions: Record<string, string> }> {
  const { plan } = ctx;
  const target = withDatabase(ctx.target, side);
  // Progress counts the files of the whole build, not of one layer: `sql  3 / 40 files`.
  const total = plan.layers.slice(start + 1).reduce((sum, layer) => sum + layer.files.length, 0);
  let before = 0;
  const logger: Logger = {
    info: (message) => ctx.logger.info(message),
    warn: (message) => ctx.logger.warn(message),
    debug: (message) => ctx.logger.debug(message),
    progress: (event) => ctx.logger.progress(event.phase === 'sql' && event.unit === 'files' ? { ...event, done: before + (event.done ?? 0), total } : event),
  };
  const runContext = { target, runner: ctx.runner, pgBinDir: ctx.config.tools.pgBinDir, logger, variables: plan.variables, root: ctx.config.repository.path };
  const results: LayerResult[] = plan.layers.map((layer, index) => ({ label: layer.label, template: layer.template, state: index <= start ? 'reused' : 'rebuilt', files: layer.files.length, durationMs: 0, templateLater: index > start && index < plan.layers.length - 1 }));
  let extensions: Record<string, string> = {};
  for (let index = start + 1; index < plan.layers.length; index++) {
    const layer = plan.layers[index] as EnvironmentPlan['layers'][number];
    const last = index === plan.layers.length - 1;
    const began = performance.now();
    const found = await runLayer(runContext, layer, last ? readExtensions : undefined);
    if (found) extensions = found;
    before += layer.files.length;
    (results[index] as LayerResult).durationMs = Math.round(performance.now() - began);
  }
  return { results, extensions };
}

/**
 * Builds the environment's template from the layer above `start` (-1: from its first file) in a
 * side database (recognisable by its name from the first moment), then in one transaction marks
 * it a template with its manifest and swaps it in: until that commit the old template is
 * untouched, after it the new one is in place. The old one is renamed to a side name and left
 * to the background worker, since dropping it would cost the user a checkpoint.
 */
export async function buildFromLayer(ctx: ChainContext, start: number, replacing: boolean): Promise<{ manifest: TemplateManifest; layers: LayerResult[] }> {
  const { client, plan, logger, target, owner } = ctx;
  const side = await startSide(ctx, start, plan.template);
  const unregister = registerCleanup(() => dropSideDatabase(target, undefined, side.name, logger));
  try {
    const { results, extensions } = await runLayers(ctx, side.name, start);
    const measured = await readDatabases(client, [side.name], { size: side.name });
    const manifest = chainManifest(plan, plan.layers.length - 1, {
      serverVersion: measured.serverVersion,
      sizeBytes: measured.databases.get(side.name)?.sizeBytes ?? 0,
      extensions,
      owner,
      settings: measured.databases.get(side.name)?.settings,
    });
    const old = replacing ? sideName(plan.template, 'old', owner) : undefined;
    // Templates refuse connections, but a session from before (or a superuser's) may be there: rename would wait and fail.
    if (old) await terminateSessions(client, plan.template);
    const changes: DatabaseChange[] = [
      { kind: 'freeze', database: side.name },
      { kind: 'comment', database: side.name, comment: encodeComment(TEMPLATE_MARKER, manifest) },
      ...(old ? [{ kind: 'rename' as const, from: plan.template, to: old }] : []),
      { kind: 'rename', from: side.name, to: plan.template },
    ];
    // Registered before the swap is sent: an interrupt while it runs drops the old one if it committed.
    const withdraw = old ? handOver(target, client, old) : undefined;
    try {
      await changeDatabases(client, changes, { synchronousCommit: false });
    } catch (error) {
      withdraw?.();
      throw error;
    }
    return { manifest, layers: results };
  } catch (error) {
    await dropSideDatabase(target, client, side.name, logger);
    throw error;
  } finally {
    unregister();
    await side.release();
  }
}
