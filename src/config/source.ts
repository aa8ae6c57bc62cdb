import { mappingFailures, type FailureContext } from '../failure/operational.js';
import type { LoadConfigOptions } from './read.js';
import type { DbfastConfig } from './types.js';

/*
 * How the library's functions (src/api/, re-exported by src/index.ts) get their config: given,
 * or loaded the way the CLI loads it. Kept here, beside the one loader, so each file of src/api/
 * holds only its functions. Both loaders below
 * rethrow operational failures (lost connection, full disk, missing privilege, ...) as coded
 * DbfastErrors, so a caller of the library never sees a bare pg or Node error.
 */

/** Where the config comes from: a loaded one, or the same search the CLI does. */
export interface ConfigSource {
  config?: DbfastConfig | undefined;
  /** Path of dbfast.toml; else DBFAST_CONFIG; else searched upward from `cwd`. */
  configPath?: string | undefined;
  cwd?: string | undefined;
  /** Environment variables for interpolation and connection settings (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
}

/** A function's own options with the config replaced by where to find it. */
export type With<T> = Omit<T, 'config'> & ConfigSource;

/** The one loader (config/read.ts): contents that passed the type check before skip zod. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<DbfastConfig> {
  return mappingFailures(async () => (await import('./read.js')).loadConfigLazily(options));
}

/** The config of a `ConfigSource`: the one given, else loaded. */
export async function configOf(source: ConfigSource): Promise<DbfastConfig> {
  if (source.config) return source.config;
  return loadConfig({ configPath: source.configPath, cwd: source.cwd, env: source.env });
}

/**
 * Loads the config and the implementing module side by side, then calls it. `failure` is what the
 * caller knows about where a failure happens (`{ server: 'local' }`: only on the local server).
 */
export async function withModule<M, R>(source: ConfigSource, load: () => Promise<M>, call: (module: M, config: DbfastConfig) => Promise<R> | R, failure: FailureContext = {}): Promise<R> {
  return mappingFailures(async () => {
    const [config, module] = await Promise.all([configOf(source), load()]);
    return call(module, config);
  }, failure);
}

/** What the library's functions on the local server tell `withModule`: their failures are the local server's. */
export const ON_LOCAL_SERVER: FailureContext = { server: 'local' };
