import type pg from 'pg';
import { registerCleanup } from '../cleanup.js';
import { localTarget } from '../config/targets.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { connect } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryUnlock } from '../pg/lock.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { dbfastVersion } from '../version.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import { changeDatabases, dropDatabase, readDatabases, setComment, terminateSessions, type DatabaseChange, type DatabaseInfo } from '../pg/catalog.js';
import { noticeLeftovers, type BackgroundMode } from './background.js';
import { BUILD_MARKER, TEMPLATE_MARKER, decodeManifest, encodeComment, type TemplateManifest } from './manifest.js';
import { buildLockKey, sideName } from './names.js';
import { describeOwner, isOwnedBy, projectOwner, type ProjectOwner } from './owner.js';
import { planFor, type EnvironmentPlan } from './plan.js';
import { createSideDatabase, dropSideDatabase } from './side.js';
import { compareWithManifest } from './staleness.js';

export interface BuildOptions {
  config: DbfastConfig;
  /** Environment name; default `local`, or the only one. */
  environment?: string | undefined;
  /** Rebuild even when the template is fresh. */
  force?: boolean | undefined;
  /** Overrides `[repository] runner`. */
  runner?: Runner | undefined;
  /** Where clean-up that must not hold up the answer runs (see local/background.ts). */
  background?: BackgroundMode | undefined;
  logger?: Logger | undefined;
}

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
  return manifest && compareWithManifest(ctx.plan, manifest).state === 'fresh' ? manifest : undefined;
}

function result(ctx: EnsureContext, manifest: TemplateManifest, rebuilt: boolean, reused: boolean): BuildResult {
  const { plan, started } = ctx;
  return { template: plan.template, environment: plan.environment, rebuilt, reused, files: manifest.fileCount, durationMs: Date.now() - started, manifest };
}

/**
 * Ensures the environment's template is fresh (building it unless it is, or with force) under
 * the per-template advisory lock, and returns its name and manifest. This is the one function
 * that knows how a template comes to be; seed, deploy and build all go through it.
 */
export async function ensureTemplate(ctx: EnsureContext): Promise<BuildResult> {
  const { client, plan, logger } = ctx;
  const owner = projectOwner(ctx.config);
  assertOwnTemplate(ctx.existing, owner);
  const before = decodeManifest(ctx.existing?.comment);
  if (!ctx.force) {
    const fresh = freshManifest(ctx, ctx.existing);
    if (fresh) return result(ctx, fresh, false, false);
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
    if (fresh && (!ctx.force || waited || builtMeanwhile)) return result(ctx, fresh, false, true);
    const manifest = await buildAndSwap(ctx, owner, now !== undefined);
    return result(ctx, manifest, true, false);
  } finally {
    await advisoryUnlock(client, buildLockKey(plan.template)).catch(() => undefined);
  }
}

async function runInto(ctx: EnsureContext, side: string): Promise<void> {
  const { runFiles } = await import('../sql/index.js');
  const sideTarget = withDatabase(ctx.target, side);
  const files = ctx.plan.files.map(({ relativePath, absolutePath }) => ({ relativePath, absolutePath }));
  const common = { runner: ctx.runner, target: sideTarget, pgBinDir: ctx.config.tools.pgBinDir, logger: ctx.logger };
  if (ctx.runner === 'psql') {
    await runFiles(files, common);
    return;
  }
  const sideClient = await connect(sideTarget, { applicationName: 'dbfast build' });
  try {
    await runFiles(files, { ...common, client: sideClient });
  } finally {
    await sideClient.end().catch(() => undefined);
  }
}

/**
 * Builds into a side database (`<tmpl>__dbfast_build_…`, recognisable by its name from the first
 * moment), then in one transaction marks it a template with its manifest and swaps it in: until
 * that commit the old template is untouched, after it the new one is in place, so no moment
 * exists without a template.
 */
async function buildAndSwap(ctx: EnsureContext, owner: ProjectOwner, replacing: boolean): Promise<TemplateManifest> {
  const { client, plan, logger, target } = ctx;
  logger.progress({ phase: `building ${plan.template}`, done: 0, total: plan.files.length, unit: 'files' });
  // WAL_LOG copies template0 through the WAL: no checkpoint on the way (FILE_COPY forces two).
  const strategy = ctx.serverVersion >= 150000 ? 'wal_log' : undefined;
  const side = await createSideDatabase(client, target, { base: plan.template, kind: 'build', owner, source: 'template0', strategy });
  const unregister = registerCleanup(() => dropSideDatabase(target, undefined, side.name, logger));
  try {
    await setComment(client, side.name, encodeComment(BUILD_MARKER, { template: plan.template, startedAt: new Date().toISOString(), owner }));
    await runInto(ctx, side.name);
    const measured = await readDatabases(client, [side.name], { size: side.name });
    const manifest: TemplateManifest = {
      dbfastVersion: dbfastVersion(),
      environment: plan.environment,
      template: plan.template,
      files: Object.fromEntries(plan.files.map((file) => [file.relativePath, file.sha256])),
      fileCount: plan.files.length,
      filterHash: plan.filterHash,
      serverVersion: measured.serverVersion,
      builtAt: new Date().toISOString(),
      sizeBytes: measured.databases.get(side.name)?.sizeBytes ?? 0,
      owner,
    };
    const old = replacing ? sideName(plan.template, 'old', owner) : undefined;
    // Templates refuse connections, but a session from before (or a superuser's) may be there: rename would wait and fail.
    if (old) await terminateSessions(client, plan.template);
    const changes: DatabaseChange[] = [
      { kind: 'freeze', database: side.name },
      { kind: 'comment', database: side.name, comment: encodeComment(TEMPLATE_MARKER, manifest) },
      ...(old ? [{ kind: 'rename' as const, from: plan.template, to: old }] : []),
      { kind: 'rename', from: side.name, to: plan.template },
    ];
    await changeDatabases(client, changes);
    if (old) {
      try {
        await dropDatabase(client, old);
      } catch (error) {
        logger.warn(`could not drop the previous template ${old} (a later command will): ${(error as Error).message}`);
      }
    }
    return manifest;
  } catch (error) {
    await dropSideDatabase(target, client, side.name, logger);
    throw error;
  } finally {
    unregister();
    await side.release();
  }
}

/** `dbfast build`: the environment's template, rebuilt when stale (or with force). */
export async function buildTemplate(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const { config } = options;
  const environment = defaultEnvironmentName(config, options.environment);
  const plan = await planFor(config, environment);
  const target = localTarget(config);
  const logger = options.logger ?? silentLogger;
  const client = await connect(target);
  try {
    const snapshot = await readDatabases(client, [plan.template]);
    const built = await ensureTemplate({
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
    await noticeLeftovers(client, { config }, target, { mode: options.background, logger });
    return built;
  } finally {
    await client.end().catch(() => undefined);
  }
}
