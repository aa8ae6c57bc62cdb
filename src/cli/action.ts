import type { Command } from 'commander';
import type { DbfastConfig } from '../index.js';
import { Output, type GlobalOptions } from './output.js';
import { renderError } from './render/error.js';

export interface CommandContext {
  out: Output;
  globals: GlobalOptions;
  /** Loads (and caches) dbfast.toml per --config or the upward search. */
  config(): Promise<DbfastConfig>;
}

/**
 * A command's handler: its positional arguments and its options, typed by the command (the
 * parsers in options.ts make the values what the type says). Returns the exit code (default 0).
 */
export type ActionHandler<O = Record<string, unknown>> = (ctx: CommandContext, args: string[], options: O) => Promise<number | void>;

/**
 * Runs a handler with parsed options: builds the context, renders errors, sets the exit code.
 * Used by `action` (commander) and by the fast seed path (cli/entry.ts), which parses its own.
 */
export async function runHandler<O>(handler: ActionHandler<O>, globals: GlobalOptions, args: string[], options: O): Promise<void> {
  const out = new Output(globals);
  let loaded: Promise<DbfastConfig> | undefined;
  const ctx: CommandContext = {
    out,
    globals,
    config: () => {
      loaded ??= import('../index.js').then(({ loadConfig }) => loadConfig({ configPath: globals.config }));
      return loaded;
    },
  };
  try {
    const code = await handler(ctx, args, options);
    out.clearProgress();
    process.exitCode = code ?? 0;
  } catch (error) {
    out.clearProgress();
    process.exitCode = await renderError(out, error);
  }
}

/** Wraps a command handler for commander: reads its options and arguments, then `runHandler`. */
export function action<O = Record<string, unknown>>(handler: ActionHandler<O>): (...args: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const command = raw[raw.length - 1] as Command;
    const options = command.opts<O & object>();
    const globals = command.optsWithGlobals<GlobalOptions>();
    const args = raw.slice(0, -2).flatMap((value) => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]));
    await runHandler(handler, globals, args, options);
  };
}
