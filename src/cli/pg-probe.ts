/**
 * The library for a command that talks to PostgreSQL, with `pg` loaded first the cheap way.
 *
 * On Node 20 (which has no `navigator`) pg probes for Cloudflare Workers at import time by
 * constructing a fetch `Response`, which loads Node's whole fetch implementation: about 30 ms of
 * a short command's wall time (`dbfast seed`). With a navigator present pg skips the probe; it is
 * defined for the duration of pg's import only, and removed afterwards without a trace. pg is
 * then in the module cache when the library's lazily loaded modules import it.
 */
export async function libraryWithPg(): Promise<typeof import('../index.js')> {
  const [api] = await Promise.all([import('../index.js'), importSkippingPgProbe(() => import('pg'))]);
  return api;
}

async function importSkippingPgProbe<T>(load: () => Promise<T>): Promise<T> {
  if ('navigator' in globalThis) return load();
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    return await load();
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator;
  }
}
