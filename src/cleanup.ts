/**
 * Work to undo if the process is interrupted (temp files, side databases). Library code
 * registers and unregisters; the CLI runs what is left when SIGINT/SIGTERM arrives.
 */
type Cleanup = (reason: string) => Promise<void> | void;

const pending = new Set<Cleanup>();
let interruptedBy: string | undefined;

/** Registers work to undo on an interrupt; returns the function that unregisters it (call it once the work is done). */
export function registerCleanup(cleanup: Cleanup): () => void {
  pending.add(cleanup);
  return () => pending.delete(cleanup);
}

/**
 * The signal being handled (`SIGINT`, `SIGTERM`), or undefined. Work that would change what is
 * live checks it first: nothing new starts once an interrupt is being handled.
 */
export function interrupted(): string | undefined {
  return interruptedBy;
}

/** Runs every registered cleanup, newest first (`reason`: the signal, for the records they write). */
export async function runCleanups(reason = 'interrupt'): Promise<void> {
  interruptedBy = reason;
  const all = [...pending];
  pending.clear();
  for (const cleanup of all.reverse()) {
    try {
      await cleanup(reason);
    } catch {
      // Best effort: the next run cleans up what is left (side databases, *.partial files).
    }
  }
}
