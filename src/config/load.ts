import { interpolate, type InterpolationProblem } from './interpolate.js';
import { completeConfig, readConfigSource, type LoadConfigOptions } from './read.js';
import type { ConfigFile } from './schema.js';
import { typeCheckConfig } from './type-check.js';
import type { DbfastConfig } from './types.js';

export { CONFIG_FILE_NAME, findConfigFile, locateConfig, parseToml, type LoadConfigOptions } from './read.js';
export { typeCheckConfig } from './type-check.js';

/** Checks a parsed file (interpolating it first); every problem is reported at once, each with its key path. */
export function validateConfigFile(raw: unknown, file: string, env: NodeJS.ProcessEnv): ConfigFile {
  const interpolationProblems: InterpolationProblem[] = [];
  const contents = interpolate(raw, env, interpolationProblems);
  return typeCheckConfig({ file, contents, interpolationProblems });
}

/**
 * The config loader (read.ts) for callers that cannot await: the same steps, with the type check
 * always at hand. Commands and the library use `loadConfigLazily`, which imports it only when needed.
 */
export function loadConfig(options: LoadConfigOptions = {}): DbfastConfig {
  return completeConfig(readConfigSource(options), typeCheckConfig);
}
