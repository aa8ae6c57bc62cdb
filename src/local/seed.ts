import type pg from 'pg';
import { localTarget, serverShutdownError } from '../server/managed.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { databaseName, withDatabase } from '../pg/target.js';
import { dbfastVersion } from '../version.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import type { BackgroundMode } from './background.js';
import { ensureTemplate, finishInBackground } from './build.js';
import { dropDatabase, readDatabases, setAllowConnections, type DatabaseInfo } from '../pg/catalog.js';
import { CLONE_MARKER, TEMPLATE_MARKER, decodeClone, encodeComment, type CloneMetadata } from './manifest.js';
import { assertDatabaseName, sideLockKey, sideName, sideNameBase, templateDatabaseName } from './names.js';
import { describeOwner, isOwnedBy, projectOwner, type ProjectOwner } from './owner.js';
import { planFor } from './plan.js';
import { acquire } from '../pg/pool.js';
import { clearTemplateSessions } from './sessions.js';
import { createSideDatabase, type SideDatabase } from './side.js';
import { guardSideDatabases, swapIn, type SideGuard, type SwapInResult } from './swap-in.js';
import { chooseStrategy, type CloneStrategy } from './strategy.js';
import { advisoryUnlock, databaseLockKey, tryAdvisoryLock, withAdvisoryLock } from '../pg/lock.js';
import { parsePoolName } from '../pool/names.js';
import { takeReady } from '../pool/shelf.js';
import { poolNumbers } from '../pool/settings.js';

export interface SeedOptions {
  config: DbfastConfig;
  /** Name of the database to create. */
  output: string;
  environment?: string | undefined;
  /** Replace an existing database of that name: only a clone this project's dbfast made, never a template. */
  force?: boolean | undefined;
  /** Rebuild the template first even when it is fresh. */
  rebuild?: boolean | undefined;
  runner?: Runner | undefined;
  /** Override the size-based choice of CREATE DATABASE ... STRATEGY. */
  strategy?: CloneStrategy | undefined;
  /** Take a ready database of the template's current build from the pool when there is one (default true). */
  pool?: boolean | undefined;
  /** Where clean-up that must not hold up the answer runs (see local/background.ts). */
  background?: BackgroundMode | undefined;
  logger?: Logger | undefined;
}

export interface SeedResult {
  database: string;
  template: string;
  environment: string;
  /** The template was (re)built by this call. */
  rebuilt: boolean;
  /** URL of the new database, password masked. */
  url: string;
  /** The whole call: planning, the template build when it did one, the clone. */
  durationMs: number;
  /** Time of the CREATE DATABASE statement alone (or of the rename, from the pool). */
  cloneMs: number;
  /** The template (re)build this call did first, part of `durationMs`; null when it built nothing. */
  rebuildMs: number | null;
  /** A ready database from the pool was renamed to `database` (no clone was made). */
  fromPool: boolean;
}

function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

const PROTECTED = new Set(['postgres', 'template0', 'template1']);

/**
 * `--force` replaces only what dbfast made for this project: a clone it seeded. Any other
 * database is refused, with or without --force, and nothing happens to it (no session ended).
 */
function assertReplaceable(info: DatabaseInfo, options: SeedOptions, maintenance: string, owner: ProjectOwner): void {
  const name = info.name;
  if (info.isTemplate || info.comment?.startsWith(TEMPLATE_MARKER) || PROTECTED.has(name) || name === maintenance) {
    throw new DbfastError('DATABASE_PROTECTED', `refusing to replace "${name}": it is a template or a system database`, {
      hint: 'Choose another --output name; --force only replaces clones dbfast made.',
    });
  }
  const clone = info.comment?.startsWith(CLONE_MARKER) ? decodeClone(info.comment) : undefined;
  if (!clone) {
    throw new DbfastError('NOT_MADE_BY_DBFAST', `database "${name}" already exists and dbfast did not make it (it has no dbfast marker); nothing was changed`, {
      hint: `dbfast never replaces a database it did not make, not even with --force. Choose another --output name, or, if "${name}" is disposable, drop it yourself (dropdb "${name}") and seed again.`,
    });
  }
  if (clone.owner && !isOwnedBy(clone.owner, owner)) {
    throw new DbfastError('DATABASE_OWNED_ELSEWHERE', `database "${name}" is a clone seeded by ${describeOwner(clone.owner)}, not by this project; nothing was changed`, {
      hint: `Choose another --output name, or replace it from ${clone.owner.path}.`,
      details: { database: name, owner: clone.owner },
    });
  }
  if (!options.force) {
    throw new DbfastError('DATABASE_EXISTS', `database "${name}" already exists (a clone dbfast seeded from ${clone.template})`, {
      hint: 'Pass --force to replace it, or choose another --output name.',
    });
  }
}

/**
 * A ready database of the template's current build, renamed from the pool to a fresh side name
 * of this seed, whose name lock this session holds (as `createSideDatabase` does): an interrupt
 * before the final rename leaves a leftover the next command reaps. Undefined when none is ready.
 */
async function takeFromPool(client: pg.Client, guard: SideGuard, template: string, owner: ProjectOwner, comment: string): Promise<SideDatabase | undefined> {
  const name = sideName(template, 'clone', owner);
  if (!(await tryAdvisoryLock(client, sideLockKey(name)))) return undefined;
  guard.add(name);
  const release = (): Promise<void> => advisoryUnlock(client, sideLockKey(name)).catch(() => undefined);
  const started = performance.now();
  try {
    if (await takeReady(client, template, name, comment)) return { name, createMs: performance.now() - started, release };
  } catch (error) {
    await release();
    throw error;
  }
  await release();
  return undefined;
}

/** A template whose files cannot be read (missing, torn or corrupt pages): rebuilt rather than reported. */
function isUnreadableTemplate(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '58P01' || code === '58030' || code === 'XX001' || code === 'XX002';
}

/**
 * `dbfast seed`: the environment's template (built when stale), cloned into `output`. The fresh
 * path is one connection and few round trips: read the catalog, CREATE DATABASE under a side
 * name (recognisable if the command dies), then mark and rename it in one transaction.
 */
export async function seed(options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const { config, output } = options;
  const logger = options.logger ?? silentLogger;
  const environment = defaultEnvironmentName(config, options.environment);
  const template = templateDatabaseName(config, environment);
  assertDatabaseName(output, '--output');
  // DBFAST_POOL_SIZE is read after the seed (for the refill): refuse a bad one before acting, as `pool status` does.
  poolNumbers(config, environment);
  if (output === template || sideNameBase(output) !== undefined || parsePoolName(output) !== undefined) {
    throw new DbfastError('DATABASE_PROTECTED', `--output "${output}" is a name dbfast uses for templates`, { hint: 'Choose another --output name.' });
  }
  const owner = projectOwner(config);
  const target = await localTarget(config, config.env, logger);
  // Hashing files and connecting overlap: both are I/O.
  const [planned, connected] = await Promise.allSettled([planFor(config, environment), acquire(target)]);
  if (connected.status === 'rejected') throw connected.reason;
  const { client, release } = connected.value;
  let failure: unknown;
  try {
    if (planned.status === 'rejected') throw planned.reason;
    let snapshot = await readDatabases(client, [template, output], { sessions: template });
    const existingOutput = snapshot.databases.get(output);
    if (existingOutput) assertReplaceable(existingOutput, options, databaseName(target), owner);
    const ensure = (existing: DatabaseInfo | undefined, force: boolean): ReturnType<typeof ensureTemplate> =>
      ensureTemplate({
        config,
        target,
        client,
        plan: planned.value,
        existing,
        serverVersion: snapshot.serverVersion,
        force,
        runner: options.runner ?? config.repository.runner,
        logger,
        started: Date.now(),
      });
    let { build, afterwards } = await ensure(snapshot.databases.get(template), options.rebuild === true);
    if (build.rebuilt || build.reused) snapshot = await readDatabases(client, [template], { sessions: template });
    const info = snapshot.databases.get(template) as DatabaseInfo;
    if (info.allowConnections) await setAllowConnections(client, template, false);
    if ((info.sessions ?? 0) > 0) await clearTemplateSessions(client, template, logger);
    const strategy = chooseStrategy(snapshot.serverVersion, build.manifest.sizeBytes ?? null, options.strategy);
    const metadata: CloneMetadata = { template, environment, createdAt: new Date().toISOString(), dbfastVersion: dbfastVersion(), owner };
    const comment = encodeComment(CLONE_MARKER, metadata);
    // From here until the new clone has the output's name (and the old one is handed on), an
    // interrupt drops every side database this seed holds and waits for that before exit 130.
    const guard = guardSideDatabases(target, client);
    let side: SideDatabase;
    let fromPool = false;
    try {
      // A ready database of this build from the pool, renamed to a side name of this seed (a catalog
      // update, whatever the template's size); from there it goes the way a fresh clone goes.
      const pooled = options.pool === false ? undefined : await takeFromPool(client, guard, template, owner, comment);
      fromPool = pooled !== undefined;
      const clone = (): ReturnType<typeof createSideDatabase> =>
        createSideDatabase(client, target, {
          base: template,
          kind: 'clone',
          owner,
          source: template,
          strategy,
          // CREATE DATABASE ... TEMPLATE copies no per-database settings: the clone gets the template's, from its manifest.
          settings: build.manifest.settings ?? [],
          onSourceInUse: () => clearTemplateSessions(client, template, logger),
        });
      if (pooled) side = pooled;
      else {
        try {
          side = await clone();
        } catch (error) {
          if (!isUnreadableTemplate(error)) throw error;
          // Its files are damaged: a server without fsync that was not shut down cleanly (the managed
          // server's fast settings) may lose writes. The template is only a cache of the SQL files.
          logger.warn(`template ${template} cannot be read (${(error as Error).message}); rebuilding it from the SQL files`);
          const rebuilt = await ensure(info, true);
          build = { ...rebuilt.build, rebuilt: true };
          afterwards = rebuilt.afterwards;
          side = await clone();
        }
      }
      guard.add(side.name);
      let swapped: SwapInResult;
      try {
        // Seeds of one --output at the same time take turns here; each looks again at what is there
        // now (another may have just made it) and applies the same rules as at the start.
        swapped = await withAdvisoryLock(client, databaseLockKey(output), async () => {
          const current = (await readDatabases(client, [output])).databases.get(output);
          if (current) assertReplaceable(current, options, databaseName(target), owner);
          return swapIn(client, guard, { side: side.name, output, comment, replacing: current !== undefined, base: template, owner }, logger);
        });
      } catch (error) {
        await dropDatabase(client, side.name).catch(() => undefined);
        throw error;
      } finally {
        await side.release();
      }
      // The replaced clone is a leftover now, dropped by the background worker (in PostgreSQL 15
      // a DROP waits for a checkpoint), not while the user waits for the new one.
      await swapped.old?.release();
      await finishInBackground(client, { config, target }, afterwards, { mode: options.background, logger });
    } finally {
      guard.done();
    }
    return {
      database: output,
      template,
      environment,
      rebuilt: build.rebuilt,
      // Secret-free and unmasked: `psql "$(dbfast seed ...)"` connects with the password from where it came (a mask would be sent as the password).
      url: withDatabase(target, output).url,
      durationMs: roundMs(performance.now() - started),
      cloneMs: roundMs(side.createMs),
      rebuildMs: build.rebuilt ? roundMs(build.durationMs) : null,
      fromPool,
    };
  } catch (error) {
    failure = error ?? new Error('seed failed');
    throw serverShutdownError(error) ?? error;
  } finally {
    release(failure);
  }
}
