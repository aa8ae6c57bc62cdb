import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { DbfastConfig } from '../config/types.js';
import { DbfastError, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import { acquireAdvisoryLock, advisoryLockHeld, advisoryUnlock } from '../pg/lock.js';
import { targetFromUrl, type DbTarget } from '../pg/target.js';
import { projectOwner } from './owner.js';
import { findLeftovers, reapLeftovers } from './reap.js';

/**
 * Work that must happen but never while the user waits: dropping databases (in PostgreSQL 15
 * every DROP DATABASE forces a checkpoint) and reaping what interrupted commands left. It runs in
 * a detached process (`dbfast __background`) started after the command has its answer, or, with
 * `wait`, in this process before the call returns (tests, scripts that want no process left).
 * Either way it is idempotent, so a worker that dies is simply replaced by the next command's.
 */
export type BackgroundMode = 'detach' | 'wait';

/** What a worker does for one project: always reap its leftovers (replaced templates included). */
export interface BackgroundJob {
  config: DbfastConfig;
  /** Environments just rebuilt: make their layer templates and spares, then drop what nothing uses. */
  environments?: string[] | undefined;
}

/** What a worker did. */
export interface BackgroundReport {
  /** Leftovers, replaced templates and unused layer templates and spares dropped. */
  dropped: string[];
  /** Layer templates made. */
  built: string[];
  spares: string[];
}

/** The environment variable the detached worker reads its job from. */
const JOB_VARIABLE = 'DBFAST_BACKGROUND_JOB';
/** The server, as the command that started the worker resolved it (the worker never starts a managed server). */
const URL_VARIABLE = 'DBFAST_BACKGROUND_URL';
const PASSWORD_VARIABLE = 'DBFAST_BACKGROUND_PASSWORD';
/** How long a worker waits for another worker of the same project before leaving the work to it. */
const LOCK_WAIT_MS = 120_000;

/** `--background`/option, else DBFAST_BACKGROUND, else detach. */
export function backgroundMode(requested?: BackgroundMode, env: NodeJS.ProcessEnv = process.env): BackgroundMode {
  if (requested) return requested;
  const value = env.DBFAST_BACKGROUND;
  if (value === undefined || value === '') return 'detach';
  if (value === 'detach' || value === 'wait') return value;
  throw new DbfastError('USAGE', `DBFAST_BACKGROUND must be "detach" or "wait", not "${value}"`, {
    hint: 'Unset it (dbfast then finishes its clean-up in a detached process), or set it to "wait".',
  });
}

/** The advisory lock one worker per project holds while it works. */
export function maintenanceLockKey(config: DbfastConfig): string {
  return `dbfast:maintain:${projectOwner(config).id}`;
}

/** Does the job under the project's maintenance lock (one worker per project at a time). */
export async function runBackground(job: BackgroundJob, target: DbTarget, logger: Logger = silentLogger): Promise<BackgroundReport> {
  return withClient(
    target,
    async (client: pg.Client) => {
      const key = maintenanceLockKey(job.config);
      await acquireAdvisoryLock(client, key, { timeoutMs: LOCK_WAIT_MS, pollMs: 200 });
      try {
        const report: BackgroundReport = { dropped: await reapLeftovers(client, projectOwner(job.config), logger), built: [], spares: [] };
        for (const name of report.dropped) logger.info(`dropped ${name}`);
        if (!job.environments?.length) return report;
        const { collectGarbage, prepareEnvironment } = await import('./prepare.js');
        for (const environment of job.environments) {
          try {
            const prepared = await prepareEnvironment(client, target, job.config, environment, logger);
            report.built.push(...prepared.built);
            report.spares.push(...prepared.spares);
          } catch (error) {
            logger.warn(`could not prepare the layer templates of ${environment} (the next build runs those layers itself): ${errorMessage(error)}`);
          }
        }
        try {
          report.dropped.push(...(await collectGarbage(client, job.config, logger)));
        } catch (error) {
          logger.warn(`kept every layer template: ${errorMessage(error)}`);
        }
        return report;
      } finally {
        await advisoryUnlock(client, key).catch(() => undefined);
      }
    },
    { applicationName: 'dbfast background' },
  );
}

function cliPath(): string {
  // src/local, dist/local and dist/cli-bundle are all two levels below the package root.
  return fileURLToPath(new URL('../../bin/dbfast.js', import.meta.url));
}

/** Starts a detached worker; it outlives this process and writes only to `.dbfast/logs/`. */
function detach(job: BackgroundJob, target: DbTarget): boolean {
  const cli = cliPath();
  if (!existsSync(cli)) return false;
  const env: NodeJS.ProcessEnv = { ...process.env, [JOB_VARIABLE]: JSON.stringify(job), [URL_VARIABLE]: target.url };
  if (target.password !== undefined) env[PASSWORD_VARIABLE] = target.password;
  const child = spawn(process.execPath, [cli, '__background'], { detached: true, stdio: 'ignore', env, cwd: job.config.rootDir });
  child.on('error', () => undefined);
  if (child.pid !== undefined) {
    try {
      // Off the critical path in CPU too: the user's next command comes first.
      os.setPriority(child.pid, 10);
    } catch {
      // Not permitted here: it runs at normal priority.
    }
  }
  child.unref();
  return true;
}

/**
 * Hands the job to a worker: detached (default), or done before returning (`wait`). Never
 * throws for the work itself: whatever is not done now, the next command's worker does.
 */
export async function scheduleBackground(job: BackgroundJob, target: DbTarget, options: { mode?: BackgroundMode | undefined; logger?: Logger | undefined } = {}): Promise<void> {
  const logger = options.logger ?? silentLogger;
  const mode = backgroundMode(options.mode);
  if (mode === 'detach' && detach(job, target)) return;
  try {
    await runBackground(job, target, logger);
  } catch (error) {
    logger.warn(`clean-up left for the next command: ${errorMessage(error)}`);
  }
}

/**
 * Any command that talks to the local server calls this with its connection: when an
 * interrupted command (or a killed worker) left something of this project, a worker is started.
 */
export async function noticeLeftovers(client: pg.Client, job: BackgroundJob, target: DbTarget, options: { mode?: BackgroundMode | undefined; logger?: Logger | undefined } = {}): Promise<void> {
  const leftovers = await findLeftovers(client, projectOwner(job.config));
  // `wait` promises nothing is pending when the call returns, so it also waits for a worker already at it.
  const waitForWorker = backgroundMode(options.mode) === 'wait' && (await advisoryLockHeld(client, maintenanceLockKey(job.config)));
  if (leftovers.length === 0 && !waitForWorker) return;
  (options.logger ?? silentLogger).debug(`left over by interrupted commands: ${leftovers.map((leftover) => leftover.name).join(', ')}`);
  await scheduleBackground(job, target, options);
}

/** A logger for the detached worker: lines appended to `.dbfast/logs/background.log` (kept small). */
function fileLogger(rootDir: string): Logger {
  const file = path.join(rootDir, '.dbfast', 'logs', 'background.log');
  const write = (level: string, message: string): void => {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 512 * 1024) renameSync(file, `${file}.1`);
      appendFileSync(file, `${new Date().toISOString()} [${process.pid}] ${level} ${message}\n`);
    } catch {
      // Logging is a courtesy; the work itself is what matters.
    }
  };
  return { info: (m) => write('info', m), warn: (m) => write('warn', m), debug: () => undefined, progress: () => undefined };
}

/** `dbfast __background`: the detached worker's entry. Returns the exit code. */
export async function backgroundMain(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const text = env[JOB_VARIABLE];
  const url = env[URL_VARIABLE];
  if (!text || !url) return 2;
  const job = JSON.parse(text) as BackgroundJob;
  const logger = fileLogger(job.config.rootDir);
  try {
    const password = env[PASSWORD_VARIABLE];
    await runBackground(job, targetFromUrl(url, password, env), logger);
    return 0;
  } catch (error) {
    logger.warn(errorMessage(error));
    return 1;
  }
}
