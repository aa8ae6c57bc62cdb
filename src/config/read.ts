import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import TOML from '@iarna/toml';
import { DbfastError } from '../errors.js';
import { dbfastVersion } from '../version.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { resolveConfig } from './resolve.js';
import type { ConfigFile } from './schema.js';
import type { DbfastConfig } from './types.js';

/**
 * THE config loader's steps, shared by every command, the fast seed path and the library:
 * find dbfast.toml, read it, parse the TOML, interpolate `${VAR}`s, check the types (zod, in
 * type-check.ts), check the rules and apply defaults (resolve.ts). The type check is the one slow
 * step (importing zod costs about as much as a clone of a small template) and its outcome
 * depends only on the interpolated contents, so contents that passed it once are remembered by
 * fingerprint under `.dbfast/cache/` and not checked again; everything else runs on every load.
 */
export const CONFIG_FILE_NAME = 'dbfast.toml';

const FINGERPRINT_FILE = path.join('.dbfast', 'cache', 'config-validated');

export interface LoadConfigOptions {
  /** `--config PATH`; else DBFAST_CONFIG; else searched upward from `cwd`. */
  configPath?: string | undefined;
  cwd?: string | undefined;
  /** Variables for `${VAR}` and the connection settings (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
}

/** Searches `dbfast.toml` from `start` up to the filesystem root. */
export function findConfigFile(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
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

/** Parses TOML text; a syntax error names file:line:column, says what is wrong and shows the line. */
export function parseToml(text: string, file: string): Record<string, unknown> {
  // @iarna/toml rejects the \r of CRLF line ends inside comments; line numbers stay the same without it.
  const lf = text.replaceAll('\r\n', '\n');
  try {
    return TOML.parse(lf) as Record<string, unknown>;
  } catch (error) {
    const e = error as { line?: number; col?: number; message?: string };
    const where = e.line !== undefined ? `${file}:${e.line + 1}:${(e.col ?? 0) + 1}` : file;
    // The parser's first line ends in "at row R, col C, pos P:" before its own excerpt; we say where ourselves.
    const reason = (e.message ?? String(error)).split('\n')[0]?.replace(/\s*at row \d+, col \d+, pos \d+:?\s*$/, '').replace(/:\s*$/, '') || 'syntax error';
    const line = e.line !== undefined ? lf.split('\n')[e.line] : undefined;
    const excerpt = line === undefined ? '' : `\n  ${e.line as number + 1} | ${line}\n  ${' '.repeat(String(e.line as number + 1).length)} | ${' '.repeat(e.col ?? 0)}^`;
    throw new DbfastError('CONFIG_SYNTAX', `${where}: invalid TOML: ${reason}${excerpt}`, { hint: 'Fix the syntax at that line (TOML: key = "value", [table] headers).', cause: error });
  }
}

/** dbfast.toml found, read, parsed and interpolated; not yet checked. */
export interface ConfigSource {
  file: string;
  env: NodeJS.ProcessEnv;
  /** Parsed, `${VAR}`s replaced. */
  contents: unknown;
  interpolationProblems: InterpolationProblem[];
}

export function readConfigSource(options: LoadConfigOptions = {}): ConfigSource {
  const env = options.env ?? process.env;
  const file = locateConfig(options);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'EISDIR'
        ? `${file} is a folder: pass the dbfast.toml inside it (--config ${path.join(file, 'dbfast.toml')}), or run dbfast from that folder.`
        : code === 'ENOENT'
          ? 'Check the path, or run `dbfast init` to write one.'
          : 'Check the file permissions.';
    throw new DbfastError('CONFIG_UNREADABLE', `cannot read ${file}: ${(error as Error).message}`, { hint, cause: error });
  }
  const interpolationProblems: InterpolationProblem[] = [];
  const contents = interpolate(parseToml(text, file), env, interpolationProblems);
  return { file, env, contents, interpolationProblems };
}

function fingerprint(source: ConfigSource): string {
  return createHash('sha256').update(`${dbfastVersion()}\0${source.file}\0${JSON.stringify(source.contents)}`).digest('hex');
}

function markerFile(source: ConfigSource): string {
  return path.join(path.dirname(source.file), FINGERPRINT_FILE);
}

/** Whether these exact contents passed the type check before. */
export function passedTypeCheckBefore(source: ConfigSource): boolean {
  if (source.interpolationProblems.length > 0) return false;
  try {
    return readFileSync(markerFile(source), 'utf8') === fingerprint(source);
  } catch {
    return false;
  }
}

function rememberPassed(source: ConfigSource): void {
  try {
    const marker = markerFile(source);
    mkdirSync(path.dirname(marker), { recursive: true });
    writeFileSync(marker, fingerprint(source));
  } catch {
    // Only an optimisation: a read-only folder just type-checks every time.
  }
}

/** The type check (zod), kept apart so that loading it is a choice (see type-check.ts). */
export type TypeCheck = (source: ConfigSource) => ConfigFile;

export interface CompleteOptions {
  /** Record contents that pass (default true; false for a file that is not the real config, e.g. an edit being checked). */
  remember?: boolean;
}

/** The steps after reading: type check (unless `check` is undefined: passed before), rules, defaults. */
export function completeConfig(source: ConfigSource, check: TypeCheck | undefined, options: CompleteOptions = {}): DbfastConfig {
  let file = source.contents as ConfigFile;
  if (check) {
    file = check(source);
    if (options.remember !== false) rememberPassed(source);
  }
  return resolveConfig(file, source.file, source.env);
}

/**
 * Loads dbfast.toml, importing the type check only when these contents have not passed it
 * before: what every command, the fast seed path and the library's `loadConfig` use.
 */
export async function loadConfigLazily(options: LoadConfigOptions = {}): Promise<DbfastConfig> {
  const source = readConfigSource(options);
  if (passedTypeCheckBefore(source)) return completeConfig(source, undefined);
  const { typeCheckConfig } = await import('./type-check.js');
  return completeConfig(source, typeCheckConfig);
}
