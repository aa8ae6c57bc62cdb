import { interrupted } from '../cleanup.js';
import { DbfastError, isDbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import { defaultEnvironmentName } from '../project/filter.js';
import { localTarget } from '../server/managed.js';
import { buildTemplate, type BuildResult } from './build.js';
import type { TemplateManifest } from './manifest.js';
import { templateDatabaseName } from './names.js';
import { checkOutputs, outdatedOutputs, refreshDatabase, type RefreshContext, type RefreshedDatabase } from './refresh.js';
import { watchRepositories, type RepositoryWatcher, type TouchBatch } from './watch-files.js';

/**
 * `dbfast watch`: keeps an environment's template, and the databases named by `outputs`, in step
 * with the SQL files while they are edited. Each debounced batch of file events is one cycle:
 * the template is rebuilt through `buildTemplate` (the one build entry point, so layered
 * templates rebuild from the first changed layer and a fresh template is not rebuilt at all),
 * then each output is recreated from it. A build that fails leaves the template and the outputs
 * as they were (build.ts builds beside the template and swaps only on success); the next save
 * tries again. Nothing here prints: every cycle ends in one `WatchEvent`.
 */

/** A file whose content differs from the last template watch built (or found). */
export interface FileChange {
  file: string;
  change: 'added' | 'modified' | 'removed';
}

/** Watching has started: the initial cycle is over and file events are being taken. */
export interface WatchingEvent {
  type: 'watching';
  environment: string;
  template: string;
  /** The folder watched (recursively): the first repository's. */
  repository: string;
  /** Every folder watched (recursively), one per repository, in run order. */
  repositories: string[];
  outputs: string[];
}

/** A cycle built a new template (or found one newer than the outputs) and refreshed the outputs. */
export interface RefreshedEvent {
  type: 'refreshed';
  /** The cycle watch runs at start (no file event behind it). */
  initial: boolean;
  /** Repository-relative paths the file events named, `NAME:path` with several repositories (empty for the initial cycle). */
  touched: string[];
  /** What differs from the previous template, by content. */
  changes: FileChange[];
  build: BuildResult;
  /** Time of the build step (a fresh template costs only the staleness check). */
  rebuildMs: number;
  /** Time of refreshing every output, one after another. */
  refreshMs: number;
  /** From the first file event of the batch to the last output refreshed. */
  sinceChangeMs: number | null;
  /** Each output recreated from the template (at start: only those that did not hold it). */
  outputs: RefreshedDatabase[];
  /** The first good cycle after failed ones. */
  recovered: boolean;
}

/** File events came, but nothing needed rebuilding or refreshing: no file of the environment changed content (a save without edits, an excluded file), or the outputs already hold the template. */
export interface UnchangedEvent {
  type: 'unchanged';
  touched: string[];
  /** The files are back to the last good template after failed cycles: nothing needed rebuilding. */
  recovered: boolean;
}

/** A cycle failed: the template and the outputs are left as they were. */
export interface FailedEvent {
  type: 'failed';
  initial: boolean;
  touched: string[];
  /** `SQL_ERROR` names `file:line:column` in its message and details. */
  error: DbfastError;
  template: string;
  /** The outputs left as they were. */
  kept: string[];
}

/** What `watchEnvironment` reports, one event per cycle (and `watching` once). */
export type WatchEvent = WatchingEvent | RefreshedEvent | UnchangedEvent | FailedEvent;

/** Options of `watchEnvironment` (`dbfast watch`, `dbfast seed --watch`). */
export interface WatchOptions {
  config: DbfastConfig;
  /** Environment name; default `local`, or the only one. */
  environment?: string | undefined;
  /** Databases to recreate from the template after every rebuild. */
  outputs?: readonly string[] | undefined;
  /** Quiet time after the last file event before a cycle starts (default 50 ms). */
  debounceMs?: number | undefined;
  /** Overrides `[repository] runner`. */
  runner?: Runner | undefined;
  logger?: Logger | undefined;
  /** Called once per cycle, and once with `watching`; must not throw. */
  onEvent(event: WatchEvent): void;
}

/** A running watch. */
export interface WatchSession {
  environment: string;
  template: string;
  /** Stops watching and waits for a cycle in progress to finish. */
  close(): Promise<void>;
  /** Settles when the session ends: after `close()`, or rejected when the watcher itself fails. */
  closed: Promise<void>;
}

/** Errors a developer fixes by editing files: watch reports them and waits for the next save. */
const FILE_ERRORS: ReadonlySet<string> = new Set(['NO_SQL_FILES', 'PRODUCTION_GUARD', 'LAYERS_INVALID', 'REPOSITORY_NOT_FOUND']);

function isFileError(error: unknown): boolean {
  return isDbfastError(error) && (error.code.startsWith('SQL_') || FILE_ERRORS.has(error.code));
}

function asDbfastError(error: unknown): DbfastError {
  if (isDbfastError(error)) return error;
  return new DbfastError('WATCH_FAILED', (error as Error)?.message ?? String(error), { cause: error, hint: 'Save a file to try again, or restart dbfast watch.' });
}

/** The content differences between two templates' file lists. */
export function diffFiles(before: TemplateManifest | undefined, after: TemplateManifest): FileChange[] {
  if (!before) return [];
  const changes: FileChange[] = [];
  for (const [file, hash] of Object.entries(after.files)) {
    const old = before.files[file];
    if (old === undefined) changes.push({ file, change: 'added' });
    else if (old !== hash) changes.push({ file, change: 'modified' });
  }
  for (const file of Object.keys(before.files)) if (!(file in after.files)) changes.push({ file, change: 'removed' });
  return changes;
}

/**
 * Starts watching: validates the outputs, runs the initial cycle (build when stale, recreate the
 * outputs that do not hold the template), starts the watcher, emits `watching`. Throws when the
 * start itself fails for a reason other than the files (configuration, server, output names).
 */
export async function watchEnvironment(options: WatchOptions): Promise<WatchSession> {
  const { config, onEvent } = options;
  const logger = options.logger ?? silentLogger;
  const environment = defaultEnvironmentName(config, options.environment);
  const template = templateDatabaseName(config, environment);
  const outputs = [...(options.outputs ?? [])];
  const target = await localTarget(config, config.env, logger);
  const ctx: RefreshContext = { config, environment, template, target, runner: options.runner ?? config.repository.runner, logger };
  await checkOutputs(ctx, outputs);

  let lastGood: TemplateManifest | undefined;
  let failing = false;
  /** Files touched since the cycle in progress (if any) started, and whether anything (a folder too) was. */
  let pending: string[] = [];
  let due = false;

  /**
   * A failure while more edits are already waiting is not reported: it is about files that have
   * changed since (an editor's save in several writes, a file deleted while the build read the
   * folder), and the next cycle, which starts at once, reports on the files as they are now.
   */
  const report = (event: FailedEvent): void => {
    if (due && !event.initial) return;
    failing = true;
    onEvent(event);
  };

  /** One cycle; never throws (but rethrows non-file errors of the initial one: watch cannot start). */
  const cycle = async (touched: string[], firstEventAt: number | undefined, initial: boolean): Promise<void> => {
    const started = performance.now();
    let build: BuildResult;
    try {
      build = await buildTemplate({ config, environment, runner: ctx.runner, logger });
    } catch (error) {
      if (initial && !isFileError(error)) throw error;
      report({ type: 'failed', initial, touched, error: asDbfastError(error), template, kept: outputs });
      return;
    }
    const rebuildMs = Math.round(performance.now() - started);
    const recovered = failing;
    if (!initial && build.manifest.builtAt === lastGood?.builtAt) {
      failing = false;
      onEvent({ type: 'unchanged', touched, recovered });
      return;
    }
    const refreshStarted = performance.now();
    const refreshed: RefreshedDatabase[] = [];
    try {
      // Only outputs older than this build: another process (a seed, or this watch's own refresh
      // that rebuilt first) may have recreated them from it already, and their sessions stay.
      const due = await outdatedOutputs(ctx, outputs, build.manifest);
      if (!initial && due.length === 0) {
        lastGood = build.manifest;
        failing = false;
        onEvent({ type: 'unchanged', touched, recovered });
        return;
      }
      for (const output of due) refreshed.push(await refreshDatabase(ctx, output));
    } catch (error) {
      if (initial && !isFileError(error)) throw error;
      const done = new Set(refreshed.map((entry) => entry.database));
      report({ type: 'failed', initial, touched, error: asDbfastError(error), template, kept: outputs.filter((output) => !done.has(output)) });
      return;
    }
    const changes = diffFiles(lastGood, build.manifest);
    lastGood = build.manifest;
    failing = false;
    const now = performance.now();
    onEvent({
      type: 'refreshed',
      initial,
      touched,
      changes,
      build,
      rebuildMs,
      refreshMs: Math.round(now - refreshStarted),
      sinceChangeMs: firstEventAt === undefined ? null : Math.round(now - firstEventAt),
      outputs: refreshed,
      recovered,
    });
  };

  // The watcher starts before the initial cycle, so an edit made while it runs is not missed.
  let firstEventAt: number | undefined;
  let running: Promise<void> | undefined;
  let closing = false;
  let fail: (error: DbfastError) => void = () => undefined;
  let closeResolve: () => void = () => undefined;
  const closed = new Promise<void>((resolve, reject) => {
    fail = reject;
    closeResolve = resolve;
  });
  // Marked handled here: a caller that never awaits `closed` must not get an unhandled rejection.
  closed.catch(() => undefined);
  const drain = async (): Promise<void> => {
    while (due && !closing && !interrupted()) {
      const touched = pending;
      const since = firstEventAt;
      pending = [];
      due = false;
      firstEventAt = undefined;
      await cycle(touched, since, false);
    }
  };
  const onBatch = (batch: TouchBatch): void => {
    // Folders trigger a cycle (a renamed folder moves its files) but are not named as touched.
    for (const file of batch.paths) if (batch.kinds[file] !== 'addDir' && batch.kinds[file] !== 'unlinkDir' && !pending.includes(file)) pending.push(file);
    due = true;
    firstEventAt ??= batch.firstEventAt;
    if (!running && started) running = drain().finally(() => (running = undefined));
  };
  let started = false;
  const watcher: RepositoryWatcher = await watchRepositories(config.repositories, {
    debounceMs: options.debounceMs ?? 50,
    onBatch,
    // A watcher that failed may have stopped reporting: end the session rather than go quiet.
    onError: (error) => {
      closing = true;
      void watcher.close().finally(() => fail(error));
    },
  });
  try {
    await cycle([], undefined, true);
  } catch (error) {
    await watcher.close();
    throw error;
  }
  started = true;
  onEvent({ type: 'watching', environment, template, repository: config.repository.path, repositories: config.repositories.map((repository) => repository.path), outputs });
  // Edits made during the initial cycle: its template may predate them, so they get a cycle now.
  if (due) running = drain().finally(() => (running = undefined));
  return {
    environment,
    template,
    closed,
    close: async () => {
      closing = true;
      await watcher.close();
      await running;
      closeResolve();
    },
  };
}
