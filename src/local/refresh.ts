import { interrupted } from '../cleanup.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import { readDatabases, sessionsOn, terminateSessions, type Session } from '../pg/catalog.js';
import { acquire } from '../pg/pool.js';
import type { DbTarget } from '../pg/target.js';
import { CLONE_MARKER, decodeClone, type TemplateManifest } from './manifest.js';
import { assertDatabaseName } from './names.js';
import { seed } from './seed.js';

/**
 * Refreshing the databases `dbfast watch --output` keeps: each is recreated from the new
 * template through `seed --force`, after the sessions connected to it are ended (and named, so
 * the developer knows why their psql was disconnected).
 */

/** One database recreated from the template. */
export interface RefreshedDatabase {
  database: string;
  /** Sessions that were connected to it and were ended (pid, user, application, client). */
  endedSessions: Session[];
  /** Time of the whole refresh of this database: ending sessions, clone, swap (the old one is dropped afterwards, in the background). */
  ms: number;
  /** Time of the CREATE DATABASE ... TEMPLATE alone. */
  cloneMs: number;
  /**
   * The files changed again between the cycle's build and this refresh, so seed rebuilt the
   * template first: the database holds the newer files (and the next cycle reports them).
   */
  rebuiltTemplate: boolean;
}

export interface RefreshContext {
  config: DbfastConfig;
  environment: string;
  template: string;
  target: DbTarget;
  runner: Runner;
  logger: Logger;
}

/**
 * Validates the output names before anything is built: legal names, not the template's, and
 * each existing one a clone dbfast made (watch recreates them over and over; it must never
 * drop a database someone else made).
 */
export async function checkOutputs(ctx: RefreshContext, outputs: readonly string[]): Promise<void> {
  for (const output of outputs) {
    assertDatabaseName(output, '--output');
    // `__dbfast_` marks every side name dbfast gives (builds, old templates, clones being made).
    if (output === ctx.template || output.includes('__dbfast_')) {
      throw new DbfastError('DATABASE_PROTECTED', `--output "${output}" is a name dbfast uses for templates`, { hint: 'Choose another --output name.' });
    }
  }
  if (new Set(outputs).size !== outputs.length) {
    throw new DbfastError('USAGE', `--output names a database twice: ${outputs.join(', ')}`, { hint: 'Name each database once.' });
  }
  const { client, release } = await acquire(ctx.target);
  try {
    const { databases } = await readDatabases(client, outputs);
    for (const info of databases.values()) {
      if (info.comment?.startsWith(CLONE_MARKER)) continue;
      throw new DbfastError('NOT_MADE_BY_DBFAST', `database "${info.name}" exists and was not made by dbfast seed`, {
        hint: `dbfast watch recreates its --output databases on every change, so it only takes over clones it made. Choose another --output name, or drop "${info.name}" yourself if it is disposable.`,
      });
    }
  } finally {
    release();
  }
}

/**
 * The outputs that do not hold the current template: missing, cloned from another template, or
 * cloned before this template was built. The others are left as they are when watch starts.
 */
export async function outdatedOutputs(ctx: RefreshContext, outputs: readonly string[], manifest: TemplateManifest): Promise<string[]> {
  const { client, release } = await acquire(ctx.target);
  try {
    const { databases } = await readDatabases(client, outputs);
    return outputs.filter((output) => {
      const clone = decodeClone(databases.get(output)?.comment);
      return !clone || clone.template !== ctx.template || clone.createdAt < manifest.builtAt;
    });
  } finally {
    release();
  }
}

/** Ends the sessions on `output`, then recreates it from the template (`seed --force`). */
export async function refreshDatabase(ctx: RefreshContext, output: string): Promise<RefreshedDatabase> {
  // The next output of a cycle Ctrl-C came in the middle of is left as it is (nothing new starts).
  const signal = interrupted();
  if (signal) throw new DbfastError('INTERRUPTED', `interrupted (${signal}) before ${output} was refreshed; it is unchanged`);
  const started = performance.now();
  const { client, release } = await acquire(ctx.target);
  let endedSessions: Session[];
  try {
    endedSessions = await sessionsOn(client, output);
    if (endedSessions.length > 0) await terminateSessions(client, output, endedSessions.map((session) => session.pid));
  } finally {
    release();
  }
  // seed ends the sessions again right before it renames the old database aside: one that connected after the list above is ended there too.
  const seeded = await seed({ config: ctx.config, output, environment: ctx.environment, force: true, runner: ctx.runner, logger: ctx.logger });
  return { database: output, endedSessions, ms: Math.round(performance.now() - started), cloneMs: seeded.cloneMs, rebuiltTemplate: seeded.rebuilt };
}
