import type { Command } from 'commander';
import { DbfastError, isDbfastError } from '../errors.js';
import type { DbfastConfig } from '../config/types.js';
import { Output, type GlobalOptions } from './output.js';

export interface CommandContext {
  out: Output;
  globals: GlobalOptions;
  /** Loads (and caches) dbfast.toml per --config or the upward search, with the one config loader. */
  config(): Promise<DbfastConfig>;
}

export type ActionHandler = (ctx: CommandContext, args: string[], options: Record<string, unknown>) => Promise<number | void>;

export function renderError(out: Output, error: unknown): number {
  out.clearProgress();
  const known: DbfastError = isDbfastError(error)
    ? error
    : new DbfastError('INTERNAL', error instanceof Error ? error.message : String(error), {
        hint: 'This is a bug in dbfast; run again with --verbose and report it with the output.',
        cause: error,
      });
  if (out.json) {
    process.stdout.write(`${JSON.stringify({ error: known.toJSON() }, null, 2)}\n`);
  } else {
    process.stderr.write(`error: ${known.message}\n`);
    if (known.hint) process.stderr.write(`hint: ${known.hint}\n`);
    if (out.verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  }
  return known.exitCode;
}

/**
 * Runs a handler with parsed options: builds the context, renders errors, sets the exit code.
 * Used by `action` (commander) and by the fast seed path (cli/entry.ts), which parses its own.
 */
export async function runHandler(handler: ActionHandler, globals: GlobalOptions, args: string[], options: Record<string, unknown>): Promise<void> {
  const out = new Output(globals);
  let loaded: Promise<DbfastConfig> | undefined;
  const ctx: CommandContext = {
    out,
    globals,
    config: () => {
      loaded ??= import('../config/read.js').then(({ loadConfigLazily }) => loadConfigLazily({ configPath: globals.config }));
      return loaded;
    },
  };
  try {
    const code = await handler(ctx, args, options);
    out.clearProgress();
    process.exitCode = code ?? 0;
  } catch (error) {
    process.exitCode = renderError(out, error);
  }
}

/** Wraps a command handler for commander: reads its options and arguments, then `runHandler`. */
export function action(handler: ActionHandler): (...args: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const command = raw[raw.length - 1] as Command;
    const options = command.opts<Record<string, unknown>>();
    const globals = command.optsWithGlobals<GlobalOptions>();
    const args = raw.slice(0, -2).flatMap((value) => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]));
    await runHandler(handler, globals, args, options);
  };
}
