import type pg from 'pg';
import type { DbfastConfig } from '../config/types.js';
import type { Logger } from '../logger.js';
import { changeDatabases, dropDatabase, readDatabases } from '../pg/catalog.js';
import { advisoryUnlock, tryAdvisoryLock } from '../pg/lock.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { chainManifest, isReadyLayer, readLayerHeads } from './chain.js';
import { TEMPLATE_MARKER, decodeManifest, encodeComment } from './manifest.js';
import { buildLockKey, parseSideName } from './names.js';
import { isOwnedBy, projectOwner } from './owner.js';
import { planEnvironment, planFor, scanAndHash, type EnvironmentPlan } from './plan.js';
import { readExtensions, runLayer } from './run-layer.js';
import { createSideDatabase, dropSideDatabase } from './side.js';
import { reapLeftover } from './reap.js';
import { EMPTY_SOURCE, ensureSpare, findSpares, staleSpares, type StaleSpare } from './spare.js';

/**
 * The background worker's share of layered templates: after a build ran several layers into one
 * side database (the quickest way to the template seed needs), the templates of the layers below
 * the last are made here, each a copy of the one below with its layer's files run into it; then
 * the spares; then whatever no environment uses any more is dropped.
 */
export interface PrepareReport {
  built: string[];
  spares: string[];
}

/** Makes layer `index` of `plan` from the template below it (which must be ready). False when it could not. */
async function buildLayerTemplate(client: pg.Client, target: DbTarget, config: DbfastConfig, plan: EnvironmentPlan, index: number, serverVersion: number, logger: Logger): Promise<boolean> {
  const owner = projectOwner(config);
  const layer = plan.layers[index] as EnvironmentPlan['layers'][number];
  // Another worker (or `build` of another environment sharing it) is on it: leave it to them.
  if (!(await tryAdvisoryLock(client, buildLockKey(layer.template)))) return false;
  try {
    const now = (await readDatabases(client, [layer.template])).databases.get(layer.template);
    if (now) return isReadyLayer(now.comment, layer.identity, owner);
    const source = plan.layers[index - 1]?.template ?? EMPTY_SOURCE;
    const side = await createSideDatabase(client, target, { base: layer.template, kind: 'build', owner, source, strategy: serverVersion >= 150000 ? 'wal_log' : undefined });
    try {
      const runContext = { target: withDatabase(target, side.name), runner: config.repository.runner, pgBinDir: config.tools.pgBinDir, logger, variables: plan.variables, root: config.repository.path };
      const extensions = (await runLayer(runContext, layer, readExtensions)) ?? {};
      const measured = await readDatabases(client, [side.name], { size: side.name });
      const manifest = chainManifest(plan, index, { serverVersion, sizeBytes: measured.databases.get(side.name)?.sizeBytes ?? 0, extensions, owner, settings: measured.databases.get(side.name)?.settings });
      await changeDatabases(
        client,
        [
          { kind: 'freeze', database: side.name },
          { kind: 'comment', database: side.name, comment: encodeComment(TEMPLATE_MARKER, manifest) },
          { kind: 'rename', from: side.name, to: layer.template },
        ],
        { synchronousCommit: false },
      );
      logger.info(`built layer template ${layer.template} (${plan.environment}, layer ${layer.label})`);
      return true;
    } catch (error) {
      await dropSideDatabase(target, client, side.name, logger);
      throw error;
    } finally {
      await side.release();
    }
  } finally {
    await advisoryUnlock(client, buildLockKey(layer.template)).catch(() => undefined);
  }
}

/** Makes the environment's missing layer templates (bottom up) and its spares. */
export async function prepareEnvironment(client: pg.Client, target: DbTarget, config: DbfastConfig, environment: string, logger: Logger): Promise<PrepareReport> {
  const owner = projectOwner(config);
  const plan = await planFor(config, environment);
  const below = plan.layers.slice(0, -1);
  const snapshot = await readDatabases(client, []);
  const heads = await readLayerHeads(client, below.map((layer) => layer.template));
  const report: PrepareReport = { built: [], spares: [] };
  let ready = true;
  for (const [index, layer] of below.entries()) {
    const head = heads.get(layer.template);
    if (head !== undefined && isReadyLayer(head, layer.identity, owner)) continue;
    if (head !== undefined || !(await buildLayerTemplate(client, target, config, plan, index, snapshot.serverVersion, logger))) {
      ready = false;
      break;
    }
    report.built.push(layer.template);
  }
  const parent = below[below.length - 1];
  const spareSpecs = [{ source: EMPTY_SOURCE, sourceIdentity: EMPTY_SOURCE }];
  if (parent && ready) spareSpecs.push({ source: parent.template, sourceIdentity: parent.identity });
  for (const spec of spareSpecs) {
    const made = await ensureSpare(client, target, { templateName: config.database.templateName, ...spec, owner, serverVersion: snapshot.serverVersion }, logger);
    if (made) report.spares.push(made);
  }
  return report;
}

/**
 * Drops this project's layer templates that no environment's current files use, and spares of
 * templates that are gone, changed or no longer below any environment's last layer. Nothing is
 * dropped when the environments cannot be planned (a config error): better kept than lost.
 */
export async function collectGarbage(client: pg.Client, config: DbfastConfig, logger: Logger): Promise<string[]> {
  const owner = projectOwner(config);
  const plans = await planAll(config);
  const wantedLayers = new Set(plans.flatMap((plan) => plan.layers.slice(0, -1).map((layer) => layer.template)));
  const result = await client.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE starts_with(shobj_description(oid, 'pg_database'), $1)`,
    [TEMPLATE_MARKER],
  );
  const dropped: string[] = [];
  const dropUnderLock = async (name: string): Promise<void> => {
    if (!(await tryAdvisoryLock(client, buildLockKey(name)))) return;
    try {
      await dropDatabase(client, name);
      dropped.push(name);
      logger.info(`dropped ${name}, which no environment uses any more`);
    } finally {
      await advisoryUnlock(client, buildLockKey(name)).catch(() => undefined);
    }
  };
  for (const row of result.rows) {
    const manifest = decodeManifest(row.comment);
    if (manifest?.role !== 'layer' || !manifest.owner || !isOwnedBy(manifest.owner, owner) || parseSideName(row.datname)) continue;
    if (!wantedLayers.has(row.datname)) await dropUnderLock(row.datname);
  }
  // Spares of the layers just dropped are stale too: those layers are not wanted, so neither are their spares.
  for (const spare of staleSpares(await findSpares(client, owner), config.database.templateName, wantedSpareSources(plans))) {
    // Under the lock a build takes to adopt a spare, so one being adopted right now is not cut short.
    if (await reapLeftover(client, spare.name)) dropped.push(spare.name);
  }
  return dropped;
}

function planAll(config: DbfastConfig): Promise<EnvironmentPlan[]> {
  return scanAndHash(config).then(({ files }) => Object.keys(config.environments).map((name) => planEnvironment(config, name, files, false)));
}

/** The spares the rule wants (see staleSpares): of the template below each environment's last layer, and the empty one. */
function wantedSpareSources(plans: readonly EnvironmentPlan[]): Map<string, string> {
  const sources = new Map<string, string>([[EMPTY_SOURCE, EMPTY_SOURCE]]);
  for (const plan of plans) {
    const parent = plan.layers[plan.layers.length - 2];
    if (parent) sources.set(parent.template, parent.identity);
  }
  return sources;
}

/**
 * This project's spares the rule no longer wants (`drop --stale` drops them, doctor reports
 * them). None when the environments cannot be planned (a config error): better kept than lost.
 */
export async function findStaleSpares(client: pg.Client, config: DbfastConfig): Promise<StaleSpare[]> {
  let plans: EnvironmentPlan[];
  try {
    plans = await planAll(config);
  } catch {
    return [];
  }
  return staleSpares(await findSpares(client, projectOwner(config)), config.database.templateName, wantedSpareSources(plans));
}
