import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import TOML from '@iarna/toml';
import { DbfastError } from '../errors.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { formatIssues } from './issues.js';
import { configSchemaFor, type ConfigFile } from './schema.js';
import { resolveConfig } from './resolve.js';
import type { DbfastConfig } from './types.js';

export const CONFIG_FILE_NAME = 'dbfast.toml';

export interface LoadConfigOptions {
  /** `--config PATH`; else DBFAST_CONFIG; else searched upward from `cwd`. */
  configPath?: string | undefined;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Searches `dbfast.toml` from `start` up to the filesystem root. */
export function findConfigFile(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

export function locateConfig(options: LoadConfigOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const explicit = options.configPath ?? env.DBFAST_CONFIG;
  if (explicit) {
    const resolved = path.resolve(cwd, explicit);
    if (!existsSync(resolved)) {
      throw new DbfastError('CONFIG_NOT_FOUND', `config file ${resolved} does not exist`, { hint: 'Check the --config path (or DBFAST_CONFIG).' });
    }
    return resolved;
  }
  const found = findConfigFile(cwd);
  if (!found) {
    throw new DbfastError('CONFIG_NOT_FOUND', `no ${CONFIG_FILE_NAME} in ${cwd} or any folder above it`, { hint: 'Run `dbfast init` in your project to write one, or pass --config PATH.' });
  }
  return found;
}

/** Parses TOML text; syntax errors name file:line:column. */
export function parseToml(text: string, file: string): Record<string, unknown> {
  try {
    // @iarna/toml rejects the \r of CRLF line ends inside comments; line numbers stay the same without it.
    return TOML.parse(text.replaceAll('\r\n', '\n')) as Record<string, unknown>;
  } catch (error) {
    const e = error as { line?: number; col?: number; message?: string };
    const where = e.line !== undefined ? `${file}:${e.line + 1}:${(e.col ?? 0) + 1}` : file;
    const reason = (e.message ?? String(error)).split('\n')[0];
    throw new DbfastError('CONFIG_SYNTAX', `${where}: invalid TOML: ${reason}`, { hint: 'Fix the syntax at that line (`dbfast init` writes a commented example; the README\'s "Every key" section lists them all).', cause: error });
  }
}

/** Checks a parsed file; every problem is reported at once, each with its key path. */
export function validateConfigFile(raw: unknown, file: string, env: NodeJS.ProcessEnv): ConfigFile {
  const problems: InterpolationProblem[] = [];
  const interpolated = interpolate(raw, env, problems);
  const result = configSchemaFor(interpolated).safeParse(interpolated);
  const lines = result.success ? [] : formatIssues(result.error.issues, interpolated);
  for (const problem of problems) lines.push(`${problem.path}: environment variable ${problem.variable} is not set`);
  if (lines.length > 0 || !result.success) {
    throw new DbfastError('CONFIG_INVALID', `${file} has ${lines.length} problem${lines.length === 1 ? '' : 's'}:\n  ${lines.join('\n  ')}`, {
      hint: 'Fix the keys named above; the README\'s "Every key" section (README.md in the dbfast package) lists every key with its type.',
      details: { problems: lines } });
  }
  return result.data;
}

export function loadConfig(options: LoadConfigOptions = {}): DbfastConfig {
  const env = options.env ?? process.env;
  const file = locateConfig(options);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DbfastError('CONFIG_UNREADABLE', `cannot read ${file}: ${(error as Error).message}`, { hint: 'Check the file permissions.', cause: error });
  }
  const parsed = validateConfigFile(parseToml(text, file), file, env);
  return resolveConfig(parsed, file, env);
}
