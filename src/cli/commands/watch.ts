import type { Command } from 'commander';
import { action, type CommandContext } from '../action.js';
import { envOption, name } from '../options.js';
import { libraryWithPg } from '../pg-probe.js';

/** What `watch` and `seed --watch` hand to the library. */
export interface WatchFlags {
  env?: string | undefined;
  output?: string[] | undefined;
}

/**
 * Runs the watch until it ends: Ctrl-C (SIGINT) or SIGTERM goes to the program's signal
 * handler (cli/signals.ts), which drops what a cycle in progress had built beside the template
 * and exits 130; a watcher that fails ends the command with its error (exit 1).
 */
export async function runWatch(ctx: CommandContext, flags: WatchFlags): Promise<number> {
  const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/watch.js')]);
  const json = ctx.out.json;
  const session = await api.watch({
    config,
    environment: flags.env,
    outputs: flags.output ?? [],
    logger: ctx.out.logger(),
    // A stream of events: one JSON object per line with --json, else one human line per cycle.
    onEvent: (event) => ctx.out.stdout(json ? JSON.stringify(render.watchEventJson(event)) : render.renderWatchEvent(ctx.out.style, event)),
  });
  await session.closed;
  return 0;
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, name(value)];
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description("rebuild the template on every save of the environment's SQL files and recreate the --output databases from it (until Ctrl-C)")
    .addOption(envOption('environment (default: local, or the only one)'))
    .option('-o, --output <names...>', 'databases to recreate after every rebuild (made when missing)', collect)
    .action(action<WatchFlags>((ctx, _args, options) => runWatch(ctx, options)));
}
