import type { GlobalOptions } from './output.js';

/**
 * The fast path's argument parser for `dbfast seed`, the command whose wall time is mostly the
 * CLI's own start-up. Loading commander and registering every command costs a seed about as
 * much as the clone of a small template, so the everyday forms are read here, and anything else
 * (help, version, an unknown or repeated option, a value that looks like an option, `-oNAME`)
 * returns undefined and goes through commander unchanged. What this accepts, commander parses
 * to the same options: it is a subset, never a second dialect.
 */
export interface FastSeed {
  globals: GlobalOptions;
  options: { output: string; env?: string; force?: true; rebuild?: true };
}

type Key = 'config' | 'json' | 'verbose' | 'noColor' | 'output' | 'env' | 'force' | 'rebuild';

/** Program options (accepted before and after the command, as commander does). */
const GLOBAL_VALUES: Record<string, Key> = { '-c': 'config', '--config': 'config' };
const GLOBAL_FLAGS: Record<string, Key> = { '--json': 'json', '-v': 'verbose', '--verbose': 'verbose', '--no-color': 'noColor' };
/** `seed`'s own options (only after the command). */
const SEED_VALUES: Record<string, Key> = { '-o': 'output', '--output': 'output', '-e': 'env', '--env': 'env' };
const SEED_FLAGS: Record<string, Key> = { '--force': 'force', '--rebuild': 'rebuild' };

/** `args` = argv without node and the script. */
export function parseFastSeed(args: readonly string[]): FastSeed | undefined {
  const values = new Map<Key, string>();
  const flags = new Set<Key>();
  let command = false;
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as string;
    if (!token.startsWith('-')) {
      if (command || token !== 'seed') return undefined;
      command = true;
      continue;
    }
    const equals = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = equals > 0 ? token.slice(0, equals) : token;
    const valueKey = GLOBAL_VALUES[name] ?? (command ? SEED_VALUES[name] : undefined);
    const flagKey = GLOBAL_FLAGS[name] ?? (command ? SEED_FLAGS[name] : undefined);
    if (valueKey) {
      const value = equals > 0 ? token.slice(equals + 1) : args[++i];
      if (value === undefined || value === '' || value.startsWith('-') || values.has(valueKey)) return undefined;
      values.set(valueKey, value);
    } else if (flagKey && equals < 0 && !flags.has(flagKey)) {
      flags.add(flagKey);
    } else {
      return undefined;
    }
  }
  const output = values.get('output');
  if (!command || output === undefined) return undefined;
  const globals: GlobalOptions = { color: !flags.has('noColor') };
  const config = values.get('config');
  if (config !== undefined) globals.config = config;
  if (flags.has('json')) globals.json = true;
  if (flags.has('verbose')) globals.verbose = true;
  const options: FastSeed['options'] = { output };
  const env = values.get('env');
  if (env !== undefined) options.env = env;
  if (flags.has('force')) options.force = true;
  if (flags.has('rebuild')) options.rebuild = true;
  return { globals, options };
}
