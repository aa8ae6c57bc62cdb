/**
 * Work to undo if the process is interrupted (temp files, side databases). Library code
 * registers and unregisters; the CLI runs what is left when SIGINT/SIGTERM arrives.
 */
type Cleanup = () => Promise<void> | void;

const pending = new Set<Cleanup>();

export function registerCleanup(cleanup: Cleanup): () => void {
  pending.add(cleanup);
  return () => pending.delete(cleanup);
}

export async function runCleanups(): Promise<void> {
  const all = [...pending];
  pending.clear();
  for (const cleanup of all.reverse()) {
    try {
      await cleanup();
    } catch {
      // Best effort: the next run cleans up what is left (side databases, *.partial files).
    }
  }
}
