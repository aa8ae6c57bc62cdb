/**
 * Imports with a `navigator` defined for the duration of the import only. On Node 20 (which has
 * no `navigator`) pg probes for Cloudflare Workers at import time by constructing a fetch
 * `Response`, which loads Node's whole fetch implementation: about 30 ms of a short command's
 * wall time. With a navigator present pg skips the probe; removing it afterwards leaves no trace.
 */
export async function importSkippingPgProbe<T>(load: () => Promise<T>): Promise<T> {
  if ('navigator' in globalThis) return load();
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    return await load();
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator;
  }
}
