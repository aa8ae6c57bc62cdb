import { runCleanups } from '../index.js';
import type { Output } from './output.js';

type GracefulStop = (signal: NodeJS.Signals) => void;
let gracefulStop: GracefulStop | undefined;

/**
 * For a long-running command (`webhook serve`): the first SIGINT/SIGTERM calls `stop` instead
 * of interrupting; a second one interrupts as usual (cleanups, exit 130). Returns the undo.
 */
export function stopGracefullyOnSignal(stop: GracefulStop): () => void {
  gracefulStop = stop;
  return () => {
    if (gracefulStop === stop) gracefulStop = undefined;
  };
}

/** Ctrl-C / SIGTERM: undo what was started (side databases, temp files), then exit 130. */
export function installSignalHandlers(out: Output): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (gracefulStop) {
      const stop = gracefulStop;
      gracefulStop = undefined;
      stop(signal);
      return;
    }
    if (interrupted) return;
    interrupted = true;
    out.message(`\ninterrupted (${signal}); cleaning up`);
    void runCleanups(signal).finally(() => process.exit(130));
  };
  // `on`, not `once`: execa's signal-exit re-raises a signal when it is the last listener left,
  // which would kill the process mid-cleanup (side databases left behind, exit by signal, not 130).
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
