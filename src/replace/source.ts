import type { Readable } from 'node:stream';
import type { Compression } from '../config/types.js';
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import type { PhaseClock } from '../history/phases.js';
import type { RecordedRun } from '../history/run.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import type { RemoteContext } from '../remote/context.js';

/** What a replace restores: the deploy's template dump, or a backup. */
export interface ArchiveSource {
  /** Names it in messages: `template shop_staging`, `backup 20261123T061500Z-1a2b`. */
  label: string;
  /**
   * The archive, opened when the restore starts: a file or a stream, and where a temporary
   * decompressed copy may go when `jobs` (pg_restore's parallel jobs need a seekable file) is above 1.
   */
  open: (jobs: number) => Promise<{ input: string | Readable; tempDir?: string | undefined }>;
  compression: Compression;
  /** pg_restore jobs (side database only; the in-place restore is one stream). */
  jobs: number;
  /** Rows it holds, for progress with an ETA. */
  totalRows?: number | undefined;
  /** Uncompressed bytes it holds (a backup's recorded raw size), for progress with a total. */
  totalBytes?: number | undefined;
  /**
   * pg_restore --no-owner: a backup keeps its owners unless `no_owner = true`; a deploy's
   * template keeps them only when `no_owner = false` is set (`RemoteConfig.templateOwners`).
   */
  noOwner: boolean;
}

/** What every replace needs from the command that runs it. */
export interface ReplaceBase {
  ctx: Pick<RemoteContext, 'config' | 'remote' | 'target' | 'database' | 'pgBinDir' | 'logger'>;
  /** Phases of the run (an undo passes a clock of its own). */
  clock: PhaseClock;
  /** Where the replace says what is live (and records it once it changed), and that the remote database can take the run's record. */
  state: Pick<RecordedRun, 'live' | 'onRemote' | 'checkpoint'>;
  source: ArchiveSource;
}

/** Checks of a restored database; they throw (VALIDATION_FAILED, RESTORE_CHECK_FAILED) to stop the replace. */
export type DatabaseCheck = (target: DbTarget) => Promise<void>;

/** What to do after an undo that put everything back, when the failure itself says nothing more. */
export const FIX_AND_RETRY = 'Fix the cause above, then run the command again.';

/**
 * The error a failed run ends with, saying what the undo did: `rolledBack` (in `details`) is
 * true only when the database from before the run is live again, and only then does the message
 * say so.
 */
export function withOutcome(error: unknown, sentence: string, hint: string, rolledBack: boolean): DbfastError {
  const original = isDbfastError(error) ? error : undefined;
  // The failure's own hint (the GRANT to run, the file to fix) still applies after the undo: it
  // replaces the generic advice, and follows advice about what the undo left.
  const cause = original?.hint;
  return new DbfastError(original?.code ?? 'POST_DEPLOY_FAILED', `${errorMessage(error)}\n${sentence}`, {
    hint: !cause || hint.includes(cause) ? hint : hint === FIX_AND_RETRY ? cause : `${hint} ${cause}`,
    cause: error,
    details: { ...original?.details, rolledBack },
  });
}

/** Logs and drops: a leftover that cannot be removed now is removed by the next run. */
export function warnOnly(logger: Logger, what: string): (error: unknown) => void {
  return (error) => logger.warn(`${what}: ${errorMessage(error)}`);
}
