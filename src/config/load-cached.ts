import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { resolveConfig } from './resolve.js';
import { dbfastVersion } from '../version.js';
import type { LoadConfigOptions } from './load.js';
import type { ConfigFile } from './schema.js';
import type { DbfastConfig } from './types.js';

/**
 * The seed command's config loader. Validating dbfast.toml needs zod, whose import alone costs
 * about as much as the clone itself. The schema has no transforms or defaults, so a file whose
 * interpolated contents are byte-identical to ones that already passed validation needs no
 * second check: we remember the fingerprint of the last valid contents under `.dbfast/cache/`
 * and go straight to resolveConfig on a match. Anything else (first run, an edit, an error)
 * goes through the full loadConfig, which reports problems exactly as every other command does.
 */
const FINGERPRINT_FILE = path.join('.dbfast', 'cache', 'config-validated');

/** Same search as loadConfig: --config, DBFAST_CONFIG, then upward from cwd. Undefined = let loadConfig explain. */
function quickLocate(options: LoadConfigOptions, env: NodeJS.ProcessEnv): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.configPath ?? env.DBFAST_CONFIG;
  if (explicit) return path.resolve(cwd, explicit);
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'dbfast.toml');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function fingerprint(file: string, contents: unknown): string {
  return createHash('sha256').update(`${dbfastVersion()}\0${file}\0${JSON.stringify(contents)}`).digest('hex');
}

async function tryFast(options: LoadConfigOptions, env: NodeJS.ProcessEnv): Promise<{ config?: DbfastConfig; remember?: () => void }> {
  const file = quickLocate(options, env);
  if (!file) return {};
  const { default: TOML } = await import('@iarna/toml');
  const problems: InterpolationProblem[] = [];
  const contents = interpolate(TOML.parse(readFileSync(file, 'utf8')), env, problems);
  if (problems.length > 0) return {};
  const key = fingerprint(file, contents);
  const marker = path.join(path.dirname(file), FINGERPRINT_FILE);
  const known = existsSync(marker) ? readFileSync(marker, 'utf8') : '';
  if (known === key) return { config: resolveConfig(contents as ConfigFile, file, env) };
  return {
    remember: () => {
      mkdirSync(path.dirname(marker), { recursive: true });
      writeFileSync(marker, key);
    },
  };
}

export async function loadConfigLean(options: LoadConfigOptions = {}): Promise<DbfastConfig> {
  const env = options.env ?? process.env;
  let remember: (() => void) | undefined;
  try {
    const fast = await tryFast(options, env);
    if (fast.config) return fast.config;
    remember = fast.remember;
  } catch {
    // Unreadable or invalid: the full loader below reports it properly.
  }
  const { loadConfig } = await import('./load.js');
  const config = loadConfig(options);
  try {
    remember?.();
  } catch {
    // Only an optimisation: a read-only folder just validates every time.
  }
  return config;
}
