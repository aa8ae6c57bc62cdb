import { DbfastError } from '../errors.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { formatIssues } from './issues.js';
import { completeConfig, readConfigSource, type ConfigSource, type LoadConfigOptions } from './read.js';
import { configSchemaFor, type ConfigFile } from './schema.js';
import type { DbfastConfig } from './types.js';

export { CONFIG_FILE_NAME, findConfigFile, locateConfig, parseToml, type LoadConfigOptions } from './read.js';

function problemsError(file: string, lines: string[]): DbfastError {
  return new DbfastError('CONFIG_INVALID', `${file} has ${lines.length} problem${lines.length === 1 ? '' : 's'}:\n  ${lines.join('\n  ')}`, {
    hint: 'Fix the keys named above (the README lists every key of dbfast.toml).',
    details: { problems: lines },
  });
}

/** The type check of dbfast.toml (zod): every problem at once, each with its key path. */
export function typeCheckConfig(source: ConfigSource): ConfigFile {
  const result = configSchemaFor(source.contents).safeParse(source.contents);
  const lines = result.success ? [] : formatIssues(result.error.issues, source.contents);
  for (const problem of source.interpolationProblems) lines.push(`${problem.path}: environment variable ${problem.variable} is not set`);
  if (lines.length > 0 || !result.success) throw problemsError(source.file, lines);
  return result.data;
}

/** Checks a parsed file (interpolating it first); every problem is reported at once, each with its key path. */
export function validateConfigFile(raw: unknown, file: string, env: NodeJS.ProcessEnv): ConfigFile {
  const interpolationProblems: InterpolationProblem[] = [];
  const contents = interpolate(raw, env, interpolationProblems);
  return typeCheckConfig({ file, env, contents, interpolationProblems });
}

/**
 * The config loader (read.ts) for callers that cannot await: the same steps, with the type check
 * always at hand. Commands and the library use `loadConfigLazily`, which imports it only when needed.
 */
export function loadConfig(options: LoadConfigOptions = {}): DbfastConfig {
  return completeConfig(readConfigSource(options), typeCheckConfig);
}
