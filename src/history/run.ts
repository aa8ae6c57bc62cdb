import { interrupted, registerCleanup } from '../cleanup.js';
import { errorMessage, isDbfastError } from '../errors.js';
import { withClient } from '../pg/client.js';
import type { RemoteContext } from '../remote/context.js';
import { newDeployId } from './id.js';
import { PhaseClock } from './phases.js';
import { newRecord, recordLocally, recordOnRemote, type DeployRecord, type DeployResult, type DeployTrigger, type HistoryKind } from './records.js';

/** What the live database is while nothing has changed it. */
export const LIVE_UNTOUCHED = 'the live database is untouched';

/** One recorded run, as the work inside `runRecorded` sees it. */
export interface RecordedRun {
  readonly record: DeployRecord;
  readonly clock: PhaseClock;
  /**
   * Write the record into the remote database (`dbfast.deploy_history`) too. Set once the
   * database exists and the run got past its refusals; a run refused before that is recorded
   * only on this machine, as `refused`, and leaves nothing on the remote.
   */
  onRemote: boolean;
  /**
   * What is live now, in a sentence, kept current by the work (`LIVE_UNTOUCHED` until it changes
   * anything): the record of a run that is interrupted says it.
   */
  live: string;
  /**
   * Records now, provisionally (result `running`), that the run changed what is live (`live`):
   * a process killed outright (SIGKILL) from here on leaves this record; the end of the run
   * replaces it.
   */
  checkpoint(): Promise<void>;
  /** Leave no record at all (the run found nothing to do). */
  discard(): void;
}

/** The undo put the database from before the run back (history result `rolled_back`). */
export function wasRolledBack(error: unknown): boolean {
  return isDbfastError(error) && error.details?.rolledBack === true;
}

function resultOf(error: unknown, run: RecordedRun): DeployResult {
  if (wasRolledBack(error)) return 'rolled_back';
  if (!run.onRemote || (isDbfastError(error) && (error.code === 'PREFLIGHT_FAILED' || error.details?.preflight === true))) return 'refused';
  return 'failed';
}

type RunContext = Pick<RemoteContext, 'config' | 'remote' | 'environment' | 'database' | 'target' | 'logger'>;

/** Writes the record where it goes; a failure to record is a warning, never the run's failure. */
async function writeRecord(ctx: RunContext, run: RecordedRun): Promise<void> {
  run.record.phases = [...run.clock.phases];
  run.record.finishedAt = new Date().toISOString();
  run.record.durationMs = Date.parse(run.record.finishedAt) - Date.parse(run.record.startedAt);
  // A copy: the run may end (and set its result) while this is being written.
  const record: DeployRecord = { ...run.record };
  if (run.onRemote) {
    await withClient(ctx.target, (client) => recordOnRemote(client, record), { applicationName: 'dbfast history' }).catch((error: unknown) =>
      ctx.logger.warn(`could not record the ${record.kind} on the remote (${errorMessage(error)}); it is recorded locally`),
    );
  }
  await recordLocally(ctx.config, record).catch((error: unknown) => ctx.logger.warn(`could not write the local history: ${errorMessage(error)}`));
}

/**
 * The one writer of run records. Runs `fn` with a fresh record and phase clock, then records
 * the outcome (success, failed, rolled_back, refused) with its phases and duration: locally
 * always (`.dbfast/history/<remote>.jsonl`), on the remote when `run.onRemote`. Interrupted
 * (Ctrl-C, SIGTERM), it records `interrupted` with the phase it was in and what is live, before
 * the process exits; killed outright after a `checkpoint`, the provisional record stays.
 */
export async function runRecorded<T>(
  kind: HistoryKind,
  ctx: RunContext,
  fn: (run: RecordedRun) => Promise<T>,
  options: { deployId?: string | undefined; trigger?: DeployTrigger | undefined } = {},
): Promise<T> {
  const record = newRecord({ deployId: options.deployId ?? newDeployId(), kind, remote: ctx.remote.name, environment: ctx.environment, database: ctx.database, trigger: options.trigger });
  let discarded = false;
  let final: Promise<void> | undefined;
  const interruptedBy = (signal: string): void => {
    if (record.result === 'interrupted') return;
    record.result = 'interrupted';
    record.error = `interrupted (${signal}) during ${run.clock.current ?? run.clock.phases.at(-1)?.name ?? 'the run'}: ${run.live}`;
    ctx.logger.warn(`${kind} ${record.deployId} ${record.error}`);
  };
  const run: RecordedRun = {
    record,
    clock: new PhaseClock(ctx.logger),
    onRemote: false,
    live: LIVE_UNTOUCHED,
    checkpoint: async () => {
      if (final) return;
      record.result = 'running';
      record.error = `not finished (${run.clock.current ? `in ${run.clock.current}` : `after ${run.clock.phases.at(-1)?.name ?? 'its start'}`}): ${run.live} (a record that stays "running" after its process is gone is of a run that was killed)`;
      await writeRecord(ctx, run);
    },
    discard: () => {
      discarded = true;
    },
  };
  // Written once, by whichever comes first (the end of the run, or the interrupt's cleanup, which
  // the process waits for before it exits): both wait for the same write.
  const write = (): Promise<void> => (final ??= discarded ? Promise.resolve() : writeRecord(ctx, run));
  // Registered first, so it runs last: the other cleanups have settled what is live by then.
  // Kept registered until the record is written: an interrupt while it is written waits for it.
  const unregister = registerCleanup(async (signal) => {
    if (!final) {
      interruptedBy(signal);
      await write();
      return;
    }
    await final;
    // The work was done (recorded `success`) when the interrupt came, yet the process exits 130
    // without reporting it: the record says it was interrupted, and what is live.
    if (discarded || record.result !== 'success') return;
    interruptedBy(signal);
    final = writeRecord(ctx, run);
    await final;
  });
  try {
    const result = await fn(run);
    // An interrupt that came before the end was recorded as such, with what is live then.
    if (record.result !== 'interrupted') {
      record.result = 'success';
      record.error = null;
    }
    return result;
  } catch (error) {
    const signal = interrupted();
    if (signal) interruptedBy(signal);
    else {
      record.result = resultOf(error, run);
      record.error = errorMessage(error);
    }
    throw error;
  } finally {
    await write();
    unregister();
  }
}
