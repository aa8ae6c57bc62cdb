/*
 * The library's warm pool of ready clones: `createPool` and `lease` for test suites, and the
 * `dbfast pool` commands. Implementations load lazily (dynamic imports), so importing the
 * public surface (src/index.ts) does not load the pool, pg or chokidar.
 */
import type { DbfastConfig } from '../config/types.js';
import { configOf, loadConfig, ON_LOCAL_SERVER, withModule, type ConfigSource, type With } from '../config/source.js';
import type { Logger } from '../logger.js';

// ---- The warm pool: ready clones for test suites and `dbfast seed` ----

/** Options of `createPool` and `lease`. */
export interface CreatePoolOptions extends ConfigSource {
  /** Environment whose template the databases are cloned from (default `local`, or the only one). */
  environment?: string | undefined;
  /** Ready databases to keep: default `[environments.NAME.pool] size`, `[pool] size`, then 1. */
  size?: number | undefined;
  /** Pooled databases the server may hold at once, counted across every pool and process on it (default `[pool] max_clones`, then 16). */
  maxClones?: number | undefined;
  /** How long `lease()` waits before it fails with POOL_TIMEOUT (default `[pool] lease_timeout_seconds`, then 60 s). */
  leaseTimeoutMs?: number | undefined;
  /** Watch the SQL files and rebuild the template when they change (default true). */
  watch?: boolean | undefined;
  logger?: Logger | undefined;
}

async function openPoolOf(options: CreatePoolOptions, overrides: { size?: number; watch?: boolean; handOffDrops?: boolean } = {}): Promise<import('../pool/types.js').Pool> {
  const [config, { poolSettings }, { openPool }] = await Promise.all([configOf(options), import('../local/pool-template.js'), import('../pool/pool.js')]);
  // A config given in memory is the config; one read from a file is read again when it changes.
  const reload = options.config ? async (): Promise<DbfastConfig> => config : (): Promise<DbfastConfig> => loadConfig({ configPath: config.configPath, env: options.env });
  return openPool(await poolSettings(config, { ...options, ...overrides }, reload));
}

/**
 * A warm pool of ready clones of the environment's template, for test suites: builds the
 * template when stale, then keeps `size` databases ready on the server; `lease()` hands one out
 * (one round trip) and `release()` recycles it when provably unchanged, else drops it in the
 * background. Resolves once `size` are ready.
 *
 * @example
 * const pool = await createPool({ configPath: 'dbfast.toml', environment: 'test', size: 4 });
 * const db = await pool.lease();          // db.url connects (password included)
 * try { await runTest(db.url); } finally { await db.release(); }
 * await pool.close();
 */
export async function createPool(options: CreatePoolOptions = {}): Promise<import('../pool/types.js').Pool> {
  return openPoolOf(options);
}

/**
 * One database from the environment's pool, for a process that needs just one (a test file in
 * its own worker): takes a ready one from the server (made by a `createPool` running elsewhere,
 * e.g. in a test runner's global setup, or by `dbfast pool fill`), or clones one when none is
 * ready. `release()` recycles or hands it back for dropping, then closes this process's sessions.
 *
 * @example
 * const db = await lease({ environment: 'test' });
 * process.env.DATABASE_URL = db.url;
 * // ... after the tests of this file:
 * await db.release();
 */
export async function lease(options: Omit<CreatePoolOptions, 'size' | 'watch'> = {}): Promise<import('../pool/types.js').Lease> {
  const pool = await openPoolOf(options, { size: 0, watch: false, handOffDrops: true });
  try {
    const leased = await pool.lease();
    return {
      ...leased,
      release: async (releaseOptions) => {
        try {
          return await leased.release(releaseOptions);
        } finally {
          await pool.close();
        }
      },
    };
  } catch (error) {
    await pool.close();
    throw error;
  }
}

/** The pooled databases of this project on the local server, per environment, and the server's count against max_clones. */
export async function poolStatus(options: With<import('../local/pool-commands.js').PoolCommandOptions> = {}): Promise<import('../local/pool-commands.js').PoolStatusResult> {
  return withModule(options, () => import('../local/pool-commands.js'), (module, config) => module.poolStatus({ ...options, config }), ON_LOCAL_SERVER);
}

/** Builds the template when stale, drops leftovers, and makes ready databases up to `[pool] size` (what `dbfast seed` takes). */
export async function fillPool(options: With<import('../local/pool-commands.js').PoolFillOptions> = {}): Promise<import('../pool/shelf.js').FillResult> {
  return withModule(options, () => import('../local/pool-commands.js'), (module, config) => module.fillPool({ ...options, config }), ON_LOCAL_SERVER);
}

/** Drops the ready databases and leftovers of the project's pools (leases of running processes stay). */
export async function drainPool(options: With<import('../local/pool-commands.js').PoolCommandOptions> = {}): Promise<import('../local/pool-commands.js').PoolDrainResult> {
  return withModule(options, () => import('../local/pool-commands.js'), (module, config) => module.drainPool({ ...options, config }), ON_LOCAL_SERVER);
}

/**
 * After a seed: starts `dbfast pool fill` for the environment as a detached process (its output in
 * .dbfast/pool-fill.log next to dbfast.toml), so a ready database waits for the next seed. Off when
 * the environment's pool size is 0. Returns whether one started; never throws.
 */
export async function startPoolRefill(options: import('../pool/background-fill.js').BackgroundFillOptions): Promise<boolean> {
  return (await import('../pool/background-fill.js')).startPoolRefill(options);
}
