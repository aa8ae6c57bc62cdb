import type pg from 'pg';
import { silentLogger, type Logger } from '../logger.js';
import { connect } from '../pg/client.js';
import type { CopyProgress } from './copy.js';
import { PlanExecutor } from './execute.js';
import { checkFile, heldUpTo, topSource, type PlanOptions } from './plan.js';
import { connectionVariables, PSQL_DEFAULTS } from './psql-variables.js';
import type { FileStamp } from './reader.js';
import { repositoryRootOf } from './source.js';
import type { RunFilesOptions, RunFilesResult, SqlFile } from './types.js';
import { Walker, type PlannedStep } from './walk.js';

/** Files checked at once in the first pass. */
const CHECK_CONCURRENCY = 8;
/**
 * The first pass keeps what it read of small files, so the second does not read and split them
 * again: up to this much of one file, and this much in all (text and data, plus the objects
 * around each step). Larger files are read twice, a window at a time, which is what bounds
 * memory whatever the size of a file.
 */
const KEEP_FILE_BYTES = 1 << 20;
const KEEP_TOTAL_BYTES = 16 << 20;
/** What holding one step costs besides its text: the statement, its words, its plan entry. */
const STEP_OVERHEAD_BYTES = 256;

/** What the first pass leaves for the second: the file's steps when they were kept. */
interface Checked {
  steps?: PlannedStep[];
}

/**
 * First pass: every file (and what it includes) is read, split and checked before anything
 * runs. Several files at once; the first problem in run order is the one reported.
 */
async function checkAll(files: SqlFile[], options: PlanOptions): Promise<Checked[]> {
  const checked: Checked[] = files.map(() => ({}));
  const failures = new Map<number, unknown>();
  let keepLeft = KEEP_TOTAL_BYTES;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const index = next++;
      // A problem in an earlier file is the one to report: later files need no checking.
      if ([...failures.keys()].some((failed) => failed < index)) return;
      const steps: PlannedStep[] = [];
      let kept = 0;
      let keeping = true;
      try {
        await checkFile(files[index] as SqlFile, options, undefined, async (batch) => {
          for (const step of batch) {
            const held = await heldUpTo(step, Math.min(KEEP_FILE_BYTES - kept, keepLeft) - STEP_OVERHEAD_BYTES);
            if (!held) {
              keepLeft += kept;
              steps.length = 0;
              keeping = false;
              return false;
            }
            kept += held.bytes + STEP_OVERHEAD_BYTES;
            keepLeft -= held.bytes + STEP_OVERHEAD_BYTES;
            steps.push(held.step);
          }
          return true;
        });
        if (keeping) checked[index] = { steps };
      } catch (error) {
        failures.set(index, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHECK_CONCURRENCY, files.length) }, worker));
  if (failures.size > 0) throw failures.get(Math.min(...failures.keys()));
  return checked;
}

/** Server notices go to the debug log. */
export function forwardNotices(client: pg.Client, logger: Logger): () => void {
  const onNotice = (notice: { severity?: string | undefined; message?: string | undefined }): void => logger.debug(`${notice.severity ?? 'NOTICE'}: ${notice.message ?? ''}`);
  client.on('notice', onNotice);
  return () => client.off('notice', onNotice);
}

/**
 * The in-process runner: checks every file first (streaming), then runs them over one
 * connection, each file from the database's defaults and with psql's variables (the config's,
 * psql's own for this connection, and what the file `\set`s), reading large files a window at a
 * time a second time rather than holding them.
 */
export async function runFilesInProcess(files: SqlFile[], options: RunFilesOptions): Promise<RunFilesResult> {
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  const first = files[0];
  const root = options.root ?? (first ? repositoryRootOf(topSource(first).absolutePath, first.relativePath) : process.cwd());
  const configured = Object.entries(options.variables ?? {});
  const stamps = new Map<string, FileStamp>();
  const planOptions: PlanOptions = {
    runner: 'inprocess',
    serverWide: options.serverWide ?? 'allow',
    root,
    chunkBytes: options.chunkBytes,
    variables: new Map([...Object.entries(PSQL_DEFAULTS), ...configured]),
    stamps,
    copyBytes: new Map<string, number>(),
  };
  const checked = await checkAll(files, planOptions);
  const client = options.client ?? (await connect(options.target, { runsUserSql: true }));
  const stopNotices = forwardNotices(client, logger);
  let current = { index: 0, file: '' };
  // A long COPY (a 150 MB data file) says rows and bytes as it goes, not only "file 1 of 2".
  const onCopyProgress = (copy: CopyProgress): void =>
    logger.progress({ phase: 'sql', done: current.index, total: files.length, unit: 'files', detail: current.file, rows: copy.rows, bytes: copy.bytes, totalBytes: copy.totalBytes });
  const executor = new PlanExecutor(client, { batchChars: options.batchChars, transaction: options.transaction ?? 'single', onCopyProgress });
  try {
    // As psql: -v variables first, then the ones it sets from the connection.
    const base = new Map([...Object.entries(PSQL_DEFAULTS), ...configured, ...Object.entries(await connectionVariables(client))]);
    for (const [index, file] of files.entries()) {
      current = { index, file: file.relativePath };
      logger.progress({ phase: 'sql', done: index, total: files.length, unit: 'files', detail: file.relativePath });
      const source = topSource(file);
      await executor.beginFile(source, new Map(base), index > 0);
      const kept = checked[index]?.steps;
      if (kept) await executor.run(kept);
      else for await (const steps of new Walker(source, { ...planOptions, runner: 'inprocess', serverWide: planOptions.serverWide ?? 'allow', root: file.root ?? root, record: false }).steps()) await executor.run(steps);
      await executor.endFile(source);
    }
    await executor.finish();
  } finally {
    stopNotices();
    if (!options.client) await client.end().catch(() => undefined);
  }
  logger.progress({ phase: 'sql', done: files.length, total: files.length, unit: 'files' });
  const { statements, copyRows, roundTrips } = executor.stats;
  const durationMs = Math.round(performance.now() - started);
  logger.debug(`ran ${files.length} SQL files: ${statements} statements, ${copyRows} COPY rows, ${roundTrips} round trips in ${durationMs} ms`);
  return { files: files.length, statements, copyRows, roundTrips, durationMs };
}

