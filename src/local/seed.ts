import type pg from 'pg';
import { localTarget } from '../server/managed.js';
import { serverShutdownError } from '../server/managed.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { quoteIdent } from '../pg/quote.js';
import { databaseName, maskUrl, withDatabase } from '../pg/target.js';
import { dbfastVersion } from '../version.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import { ensureTemplate } from './build.js';
import { readDatabases, setComment, type DatabaseInfo } from '../pg/catalog.js';
import { CLONE_MARKER, TEMPLATE_MARKER, encodeComment, type CloneMetadata } from './manifest.js';
import { assertDatabaseName, leftoverOwner, templateDatabaseName } from './names.js';
import { planFor } from './plan.js';
import { acquire } from '../pg/pool.js';
import { clearTemplateSessions, isSourceInUse } from './sessions.js';
import { chooseStrategy, type CloneStrategy } from './strategy.js';
import { takeReady } from '../pool/shelf.js';
import { withCloneThrottle } from '../pool/throttle.js';

export interface SeedOptions {
  config: DbfastConfig;
  /** Name of the database to create. */
  output: string;
  environment?: string | undefined;
  /** Replace an existing database of that name (never a template). */
  force?: boolean | undefined;
  /** Rebuild the template first even when it is fresh. */
  rebuild?: boolean | undefined;
  runner?: Runner | undefined;
  /** Override the size-based choice of CREATE DATABASE ... STRATEGY. */
  strategy?: CloneStrategy | undefined;
  /** Take a ready database of the template's current build from the pool when there is one (default true). */
  pool?: boolean | undefined;
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
  durationMs: number;
  /** Time of the CREATE DATABASE statement alone (or of the rename, from the pool). */
  cloneMs: number;
  /** A ready database from the pool was renamed to `database` (no clone was made). */
  fromPool: boolean;
}

function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

const PROTECTED = new Set(['postgres', 'template0', 'template1']);

function assertReplaceable(info: DatabaseInfo, options: SeedOptions, maintenance: string): void {
  const name = info.name;
  if (!options.force) {
    throw new DbfastError('DATABASE_EXISTS', `database "${name}" already exists`, {
      hint: 'Pass --force to drop and recreate it, or choose another --output name.',
    });
  }
  if (info.isTemplate || info.comment?.startsWith(TEMPLATE_MARKER) || PROTECTED.has(name) || name === maintenance) {
    throw new DbfastError('DATABASE_PROTECTED', `refusing to replace "${name}": it is a template or a system database`, {
      hint: 'Choose another --output name; --force only replaces ordinary databases.',
    });
  }
}

async function createClone(client: pg.Client, output: string, template: string, strategy: CloneStrategy | undefined, logger: Logger): Promise<number> {
  const sql = `CREATE DATABASE ${quoteIdent(output)} TEMPLATE ${quoteIdent(template)}${strategy ? ` STRATEGY ${strategy.toUpperCase()}` : ''}`;
  for (let attempt = 0; ; attempt++) {
    const started = performance.now();
    try {
      await withCloneThrottle(client, strategy, () => client.query(sql));
      return performance.now() - started;
    } catch (error) {
      // A session slipped in between the check and the clone: end it if it is ours, else name it.
      if (!isSourceInUse(error) || attempt >= 2) throw error;
      await clearTemplateSessions(client, template, logger);
    }
  }
}

/** A template whose files cannot be read (missing, torn or corrupt pages): rebuilt rather than reported. */
function isUnreadableTemplate(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '58P01' || code === '58030' || code === 'XX001' || code === 'XX002';
}

/**
 * `dbfast seed`: the environment's template (built when stale), cloned into `output`. The fresh
 * path is one connection and three statements: read catalog, CREATE DATABASE, COMMENT.
 */
export async function seed(options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const { config, output } = options;
  const logger = options.logger ?? silentLogger;
  const environment = defaultEnvironmentName(config, options.environment);
  const template = templateDatabaseName(config, environment);
  assertDatabaseName(output, '--output');
  if (output === template || leftoverOwner(output) !== undefined) {
    throw new DbfastError('DATABASE_PROTECTED', `--output "${output}" is a name dbfast uses for templates`, { hint: 'Choose another --output name.' });
  }
  const target = await localTarget(config, process.env, logger);
  // Hashing files and connecting overlap: both are I/O.
  const [planned, connected] = await Promise.allSettled([planFor(config, environment), acquire(target)]);
  if (connected.status === 'rejected') throw connected.reason;
  const { client, release } = connected.value;
  let failure: unknown;
  try {
    if (planned.status === 'rejected') throw planned.reason;
    let snapshot = await readDatabases(client, [template, output], { sessions: template });
    const existingOutput = snapshot.databases.get(output);
    if (existingOutput) assertReplaceable(existingOutput, options, databaseName(target));
    const ensure = (existing: DatabaseInfo | undefined, force: boolean): ReturnType<typeof ensureTemplate> =>
      ensureTemplate({ config, target, client, plan: planned.value, existing, force, runner: options.runner ?? config.repository.runner, logger, started: Date.now() });
    let build = await ensure(snapshot.databases.get(template), options.rebuild === true);
    if (build.rebuilt || build.reused) snapshot = await readDatabases(client, [template], { sessions: template });
    const info = snapshot.databases.get(template) as DatabaseInfo;
    if (info.allowConnections) await client.query(`ALTER DATABASE ${quoteIdent(template)} ALLOW_CONNECTIONS false`);
    if ((info.sessions ?? 0) > 0) await clearTemplateSessions(client, template, logger);
    if (existingOutput) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(output)} WITH (FORCE)`);
    const strategy = chooseStrategy(snapshot.serverVersion, build.manifest.sizeBytes ?? null, options.strategy);
    const metadata: CloneMetadata = { template, environment, createdAt: new Date().toISOString(), dbfastVersion: dbfastVersion() };
    const comment = encodeComment(CLONE_MARKER, metadata);
    // A ready database of this build, renamed (and marked, in the same transaction): a catalog update, whatever the template's size.
    const taking = performance.now();
    const fromPool = options.pool !== false && (await takeReady(client, template, output, comment));
    let cloneMs = performance.now() - taking;
    if (!fromPool) {
      try {
        cloneMs = await createClone(client, output, template, strategy, logger);
      } catch (error) {
        if (!isUnreadableTemplate(error)) throw error;
        // Its files are damaged: a server without fsync that was not shut down cleanly (the managed
        // server's fast settings) may lose writes. The template is only a cache of the SQL files.
        logger.warn(`template ${template} cannot be read (${(error as Error).message}); rebuilding it from the SQL files`);
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(output)} WITH (FORCE)`);
        build = { ...(await ensure(info, true)), rebuilt: true };
        cloneMs = await createClone(client, output, template, strategy, logger);
      }
      await setComment(client, output, comment);
    }
    return {
      database: output,
      template,
      environment,
      rebuilt: build.rebuilt,
      // The configured URL (masked: a password written into it shows as ***), or the managed server's.
      url: maskUrl(withDatabase({ url: config.database.url ?? target.url }, output).url),
      durationMs: roundMs(performance.now() - started),
      cloneMs: roundMs(cloneMs),
      fromPool,
    };
  } catch (error) {
    failure = error ?? new Error('seed failed');
    throw serverShutdownError(error) ?? error;
  } finally {
    release(failure);
  }
}
