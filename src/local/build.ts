import type pg from 'pg';
import { localTarget, serverShutdownError } from '../server/managed.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { connect } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryUnlock } from '../pg/lock.js';
import type { DbTarget } from '../pg/target.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import { readDatabases, type DatabaseInfo } from '../pg/catalog.js';
import { noticeLeftovers, scheduleBackground, type BackgroundJob, type BackgroundMode } from './background.js';
import { buildFromLayer, deepestReadyLayer, type LayerResult } from './chain.js';
import { TEMPLATE_MARKER, decodeManifest, type TemplateManifest } from './manifest.js';
import { buildLockKey } from './names.js';
import { describeOwner, isOwnedBy, projectOwner, type ProjectOwner } from './owner.js';
import { planFor, type EnvironmentPlan } from './plan.js';
import { compareWithManifest } from './staleness.js';
import { settleHandOvers } from './side.js';

export type { LayerResult } from './chain.js';

/** Options of `buildTemplate` (`dbfast build`). */
export interface BuildOptions {
  config: DbfastConfig;
  /** Environment name; default `local`, or the only one. */
  environment?: string | undefined;
  /** Rebuild even when the template is fresh (from the environment's first file). */
  force?: boolean | undefined;
  /** Overrides `[repository] runner`. */
  runner?: Runner | undefined;
  /** Where work that must not hold up the answer runs (see local/background.ts). */
  background?: BackgroundMode | undefined;
  logger?: Logger | undefined;
  /** Where the managed server lives (DBFAST_SERVER_DIR, ...) when no server is configured; default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
}

/** What `dbfast build` did (`build --json` prints it). */
export interface BuildResult {
  template: string;
  environment: string;
  /** This call built the template. */
  rebuilt: boolean;
  /** Another process built it while this one waited for the build lock; its result was used. */
  reused: boolean;
  /** Number of SQL files in the template. */
  files: number;
  durationMs: number;
  manifest: TemplateManifest;
  /** Each layer: reused or rebuilt by this call (all reused when nothing was built). */
  layers: LayerResult[];
}

/** Internal entry shared with seed: an open admin connection and a ready plan. */
export interface EnsureContext {
  config: DbfastConfig;
  target: DbTarget;
  client: pg.Client;
  plan: EnvironmentPlan;
  existing: DatabaseInfo | undefined;
  serverVersion: number;
  force: boolean;
  runner: Runner;
  logger: Logger;
  started: number;
}

/** What `ensureTemplate` did, and the background work it leaves for after the answer. */
export interface EnsuredTemplate {
  build: BuildResult;
  /** Hand to `scheduleBackground` once the command has its answer. */
  afterwards: BackgroundJob | undefined;
}

/**
 * Refuses to replace a database of the template's name that dbfast did not make, or that
 * another project (same template_name, other folder) built.
 */
export function assertOwnTemplate(info: DatabaseInfo | undefined, owner: ProjectOwner): void {
  if (!info) return;
  if (!info.comment?.startsWith(TEMPLATE_MARKER)) {
    throw new DbfastError('TEMPLATE_NAME_TAKEN', `database "${info.name}" exists but was not made by dbfast (it has no dbfast manifest)`, {
      hint: `dbfast never replaces databases it did not make. Set another database.template_name in dbfast.toml, or drop "${info.name}" yourself if it is disposable.`,
    });
  }
  const recorded = decodeManifest(info.comment)?.owner;
  if (recorded && !isOwnedBy(recorded, owner)) {
    throw new DbfastError('TEMPLATE_OWNED_ELSEWHERE', `template "${info.name}" belongs to ${describeOwner(recorded)}, not to this project (${owner.path})`, {
      hint: `Two projects on one server need different templates: set another database.template_name in ${owner.path}/dbfast.toml. If ${recorded.path} is gone, drop the template from there or with DROP DATABASE.`,
      details: { template: info.name, owner: recorded },
    });
  }
}

function freshManifest(ctx: EnsureContext, info: DatabaseInfo | undefined): TemplateManifest | undefined {
  const manifest = decodeManifest(info?.comment);
  return manifest && compareWithManifest(ctx.plan, manifest, info?.settings).state === 'fresh' ? manifest : undefined;
}

function reusedLayers(plan: EnvironmentPlan): LayerResult[] {
  return plan.layers.map((layer) => ({ label: layer.label, template: layer.template, state: 'reused', files: layer.files.length, durationMs: 0, templateLater: false }));
}

function unchanged(ctx: EnsureContext, manifest: TemplateManifest, reused: boolean): EnsuredTemplate {
  const { plan, started } = ctx;
  const build = { template: plan.template, environment: plan.environment, rebuilt: false, reused, files: manifest.fileCount, durationMs: Date.now() - started, manifest, layers: reusedLayers(plan) };
  return { build, afterwards: undefined };
}

/**
 * Ensures the environment's template is fresh and returns its name and manifest (whose
 * `identity` names exactly what it holds): the one function that knows how a template comes to
 * be; seed, deploy and build all go through it. A stale template is rebuilt from the deepest
 * layer whose template is still good, under the template's advisory lock; with `force`, from
 * the first file.
 */
export async function ensureTemplate(ctx: EnsureContext): Promise<EnsuredTemplate> {
  const { client, plan, logger } = ctx;
  const owner = projectOwner(ctx.config);
  assertOwnTemplate(ctx.existing, owner);
  const before = decodeManifest(ctx.existing?.comment);
  if (!ctx.force) {
    const fresh = freshManifest(ctx, ctx.existing);
    if (fresh) return unchanged(ctx, fresh, false);
  }
  let waited = false;
  await acquireAdvisoryLock(client, buildLockKey(plan.template), {
    onWait: () => {
      waited = true;
      logger.info(`waiting for another dbfast process that is building ${plan.template}`);
    },
  });
  try {
    const now = (await readDatabases(client, [plan.template])).databases.get(plan.template);
    assertOwnTemplate(now, owner);
    const builtMeanwhile = decodeManifest(now?.comment)?.builtAt !== before?.builtAt;
    const fresh = freshManifest(ctx, now);
    // A build that finished while we waited is the one we wanted, even with --force.
    if (fresh && (!ctx.force || waited || builtMeanwhile)) return unchanged(ctx, fresh, true);
    // [repository] cluster_setup (roles, extensions: what the files need of the server) first.
    const { ensureClusterSetup } = await import('./cluster-setup.js');
    await ensureClusterSetup({ ...ctx, owner });
    const start = ctx.force ? -1 : await deepestReadyLayer(client, plan, owner);
    const chain = { config: ctx.config, target: ctx.target, client, plan, serverVersion: ctx.serverVersion, runner: ctx.runner, owner, logger };
    const { manifest, layers } = await buildFromLayer(chain, start, now !== undefined);
    const build = { template: plan.template, environment: plan.environment, rebuilt: true, reused: false, files: manifest.fileCount, durationMs: Date.now() - ctx.started, manifest, layers };
    // A template built for the first time (a CI job) gets no layer templates: only one being
    // rebuilt shows someone iterating, for whom they (and spares) make the next build quick.
    // (The replaced template is a leftover now: any worker drops it.)
    return { build, afterwards: now !== undefined ? { config: ctx.config, environments: [plan.environment] } : undefined };
  } finally {
    await advisoryUnlock(client, buildLockKey(plan.template)).catch(() => undefined);
  }
}

/**
 * After a command has its answer: the build's background work if there is any, else a worker
 * only when earlier commands left something to clean up.
 */
export async function finishInBackground(client: pg.Client, ctx: { config: DbfastConfig; target: DbTarget }, afterwards: BackgroundJob | undefined, options: { mode?: BackgroundMode | undefined; logger?: Logger | undefined }): Promise<void> {
  try {
    if (afterwards) await scheduleBackground(afterwards, ctx.target, options);
    else await noticeLeftovers(client, { config: ctx.config }, ctx.target, options);
  } finally {
    // Dropped, or a detached worker has them (or the next command will): Ctrl-C from here on leaves them be.
    settleHandOvers();
  }
}

/** `dbfast build`: the environment's template, rebuilt when stale (or with force). */
export async function buildTemplate(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const { config } = options;
  const environment = defaultEnvironmentName(config, options.environment);
  const plan = await planFor(config, environment);
  const logger = options.logger ?? silentLogger;
  const target = await localTarget(config, options.env ?? config.env, options.logger);
  const client = await connect(target);
  try {
    const snapshot = await readDatabases(client, [plan.template]);
    const { build, afterwards } = await ensureTemplate({
      config,
      target,
      client,
      plan,
      existing: snapshot.databases.get(plan.template),
      serverVersion: snapshot.serverVersion,
      force: options.force === true,
      runner: options.runner ?? config.repository.runner,
      logger,
      started,
    });
    await finishInBackground(client, { config, target }, afterwards, { mode: options.background, logger });
    return build;
  } catch (error) {
    throw serverShutdownError(error) ?? error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
