import type { Command } from 'commander';
import type { DbfastConfig } from '../config/types.js';
import { Output, type GlobalOptions } from './output.js';

export interface CommandContext {
  out: Output;
  globals: GlobalOptions;
  /** Loads (and caches) dbfast.toml per --config or the upward search. */
  config(): Promise<DbfastConfig>;
}

export type ActionHandler = (ctx: CommandContext, args: string[], options: Record<string, unknown>) => Promise<number | void>;

export async function renderError(out: Output, error: unknown): Promise<number> {
  out.clearProgress();
  // Operational failures (lost connection, full disk, missing privilege, ...) get their own
  // codes; only bugs are INTERNAL. Loaded on the error path only: start-up stays lean.
  const { toDbfastError } = await import('../index.js');
  const known = toDbfastError(error);
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
      loaded ??= import('../config/load.js').then(({ loadConfig }) => loadConfig({ configPath: globals.config }));
      return loaded;
    },
  };
  try {
    const code = await handler(ctx, args, options);
    out.clearProgress();
    process.exitCode = code ?? 0;
  } catch (error) {
    process.exitCode = await renderError(out, error);
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
