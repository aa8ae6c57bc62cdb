import type pg from 'pg';
import { registerCleanup } from '../cleanup.js';
import { localTarget } from '../server/managed.js';
import { serverShutdownError } from '../server/managed.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { connect, withClient } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryUnlock } from '../pg/lock.js';
import { quoteIdent } from '../pg/quote.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import { dbfastVersion } from '../version.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import { dropDatabase, readDatabases, setComment, terminateSessions, type DatabaseInfo } from '../pg/catalog.js';
import { BUILD_MARKER, TEMPLATE_MARKER, decodeManifest, encodeComment, isDbfastComment, type TemplateManifest } from './manifest.js';
import { buildLockKey, leftoverOwner, oldDatabaseName, sideDatabaseName } from './names.js';
import { planFor, type EnvironmentPlan } from './plan.js';
import { compareWithManifest } from './staleness.js';

export interface BuildOptions {
  config: DbfastConfig;
  /** Environment name; default `local`, or the only one. */
  environment?: string | undefined;
  /** Rebuild even when the template is fresh. */
  force?: boolean | undefined;
  /** Overrides `[repository] runner`. */
  runner?: Runner | undefined;
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
  force: boolean;
  runner: Runner;
  logger: Logger;
  started: number;
}

/** Refuses to replace a database of the template's name that dbfast did not make. */
export function assertOwnTemplate(info: DatabaseInfo | undefined): void {
  if (!info || info.comment?.startsWith(TEMPLATE_MARKER)) return;
  throw new DbfastError('TEMPLATE_NAME_TAKEN', `database "${info.name}" exists but was not made by dbfast (it has no dbfast manifest)`, {
    hint: `dbfast never replaces databases it did not make. Set another database.template_name in dbfast.toml, or drop "${info.name}" yourself if it is disposable.`,
  });
}

function freshManifest(ctx: EnsureContext, info: DatabaseInfo | undefined): TemplateManifest | undefined {
  const manifest = decodeManifest(info?.comment);
  return manifest && compareWithManifest(ctx.plan, manifest).state === 'fresh' ? manifest : undefined;
}

function result(ctx: EnsureContext, manifest: TemplateManifest, rebuilt: boolean, reused: boolean): BuildResult {
  const { plan, started } = ctx;
  return { template: plan.template, environment: plan.environment, rebuilt, reused, files: manifest.fileCount, durationMs: Date.now() - started, manifest };
}

/** Builds the template unless it is fresh (or force), under the per-template advisory lock. */
export async function ensureTemplate(ctx: EnsureContext): Promise<BuildResult> {
  const { client, plan, logger } = ctx;
  assertOwnTemplate(ctx.existing);
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
    assertOwnTemplate(now);
    const builtMeanwhile = decodeManifest(now?.comment)?.builtAt !== before?.builtAt;
    const fresh = freshManifest(ctx, now);
    // A build that finished while we waited is the one we wanted, even with --force.
    if (fresh && (!ctx.force || waited || builtMeanwhile)) return result(ctx, fresh, false, true);
    await dropLeftovers(client, plan.template, logger);
    const { ensureClusterSetup } = await import('./cluster-setup.js');
    await ensureClusterSetup(ctx);
    const manifest = await buildAndSwap(ctx, now !== undefined);
    return result(ctx, manifest, true, false);
  } finally {
    await advisoryUnlock(client, buildLockKey(plan.template)).catch(() => undefined);
  }
}

/** Side and old databases of this template left by a build that died (we hold its lock, so none is live). */
async function dropLeftovers(client: pg.Client, template: string, logger: Logger): Promise<void> {
  const rows = await client.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE starts_with(datname, $1)`,
    [`${template}__dbfast_`],
  );
  for (const row of rows.rows) {
    if (leftoverOwner(row.datname) !== template || !isDbfastComment(row.comment)) continue;
    logger.debug(`dropping ${row.datname}, left over by an interrupted build`);
    await dropDatabase(client, row.datname);
  }
}

async function dropQuietly(target: DbTarget, client: pg.Client | undefined, name: string): Promise<void> {
  try {
    if (client) await dropDatabase(client, name);
    else await withClient(target, (fresh) => dropDatabase(fresh, name), { applicationName: 'dbfast cleanup' });
  } catch {
    // The next build drops leftovers whose lock is free.
  }
}

async function runInto(ctx: EnsureContext, side: string): Promise<void> {
  const { runFiles } = await import('../sql/index.js');
  const sideTarget = withDatabase(ctx.target, side);
  const files = ctx.plan.files.map(({ relativePath, absolutePath }) => ({ relativePath, absolutePath }));
  // A template holds one database: statements that act on the whole server belong in cluster_setup.
  const common = {
    runner: ctx.runner, target: sideTarget, pgBinDir: ctx.config.tools.pgBinDir, logger: ctx.logger,
    variables: ctx.plan.variables, serverWide: 'refuse' as const, root: ctx.config.repository.path,
  };
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
 * Builds into `<tmpl>__dbfast_build_<random>`, marks it a template with its manifest, then swaps
 * it in with two renames in one transaction: until that commit the old template is untouched,
 * and after it the new one is in place, so no moment exists without a template.
 */
async function buildAndSwap(ctx: EnsureContext, replacing: boolean): Promise<TemplateManifest> {
  const { client, plan, logger } = ctx;
  const side = sideDatabaseName(plan.template);
  logger.progress({ phase: `building ${plan.template}`, done: 0, total: plan.files.length, unit: 'files' });
  const unregister = registerCleanup(() => dropQuietly(ctx.target, undefined, side));
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(side)} TEMPLATE template0`);
    await setComment(client, side, encodeComment(BUILD_MARKER, { template: plan.template, startedAt: new Date().toISOString() }));
    await runInto(ctx, side);
    const measured = await readDatabases(client, [side], { size: side });
    const manifest: TemplateManifest = {
      dbfastVersion: dbfastVersion(),
      environment: plan.environment,
      template: plan.template,
      files: Object.fromEntries(plan.files.map((file) => [file.relativePath, file.sha256])),
      ...(plan.included.length > 0 ? { included: Object.fromEntries(plan.included.map((file) => [file.relativePath, file.sha256])) } : {}),
      fileCount: plan.files.length,
      filterHash: plan.filterHash,
      serverVersion: measured.serverVersion,
      builtAt: new Date().toISOString(),
      sizeBytes: measured.databases.get(side)?.sizeBytes ?? 0,
    };
    await client.query(`ALTER DATABASE ${quoteIdent(side)} IS_TEMPLATE true ALLOW_CONNECTIONS false`);
    await setComment(client, side, encodeComment(TEMPLATE_MARKER, manifest));
    await swapIntoPlace(ctx, side, replacing);
    return manifest;
  } catch (error) {
    await dropQuietly(ctx.target, client, side);
    throw error;
  } finally {
    unregister();
  }
}

async function swapIntoPlace(ctx: EnsureContext, side: string, replacing: boolean): Promise<void> {
  const { client, plan, logger } = ctx;
  if (!replacing) {
    await client.query(`ALTER DATABASE ${quoteIdent(side)} RENAME TO ${quoteIdent(plan.template)}`);
    return;
  }
  const old = oldDatabaseName(plan.template);
  // Templates refuse connections, but a session from before (or a superuser's) may be there: rename would wait and fail.
  await terminateSessions(client, plan.template);
  await client.query('BEGIN');
  try {
    await client.query(`ALTER DATABASE ${quoteIdent(plan.template)} RENAME TO ${quoteIdent(old)}`);
    await client.query(`ALTER DATABASE ${quoteIdent(side)} RENAME TO ${quoteIdent(plan.template)}`);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  try {
    await dropDatabase(client, old);
  } catch (error) {
    logger.warn(`could not drop the previous template ${old} (the next build will): ${(error as Error).message}`);
  }
}

/** `dbfast build`: the environment's template, rebuilt when stale (or with force). */
export async function buildTemplate(options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const { config } = options;
  const environment = defaultEnvironmentName(config, options.environment);
  const plan = await planFor(config, environment);
  const target = await localTarget(config, process.env, options.logger);
  const client = await connect(target);
  try {
    const existing = (await readDatabases(client, [plan.template])).databases.get(plan.template);
    return await ensureTemplate({
      config,
      target,
      client,
      plan,
      existing,
      force: options.force === true,
      runner: options.runner ?? config.repository.runner,
      logger: options.logger ?? silentLogger,
      started,
    });
  } catch (error) {
    throw serverShutdownError(error) ?? error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
