import type { Command } from 'commander';
import { action } from '../action.js';
import { envOption, poolSize } from '../options.js';
import { libraryWithPg } from '../pg-probe.js';

/** `dbfast pool status|fill|drain`: the ready databases `dbfast seed` takes (and test suites' pools share). */
export function registerPoolCommands(program: Command): void {
  const pool = program.command('pool').description('ready databases kept on the local server, for instant seeds and test suites');
  pool
    .command('status')
    .description("this project's pooled databases: ready, leased, stale; and the server's count against max_clones")
    .addOption(envOption('only this environment'))
    .action(
      action<{ env?: string }>(async (ctx, _args, options) => {
        const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/pool.js')]);
        const result = await api.poolStatus({ config, environment: options.env, logger: ctx.out.logger() });
        ctx.out.result(result, (style) => render.renderPoolStatus(style, result));
      }),
    );
  pool
    .command('fill')
    .description('build the template when stale, drop leftovers, make ready databases up to [pool] size')
    .addOption(envOption('environment (default: local, or the only one)'))
    .option('--size <n>', 'ready databases to have, 0 to 64 (default: [pool] size)', poolSize)
    .action(
      action<{ env?: string; size?: number }>(async (ctx, _args, options) => {
        const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/pool.js')]);
        const result = await api.fillPool({ config, environment: options.env, size: options.size, logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderPoolFill(result));
      }),
    );
  pool
    .command('drain')
    .description('drop the ready databases and leftovers of this project (leases of running processes stay)')
    .addOption(envOption('only this environment'))
    .action(
      action<{ env?: string }>(async (ctx, _args, options) => {
        const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/pool.js')]);
        const result = await api.drainPool({ config, environment: options.env, logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderPoolDrain(result));
      }),
    );
}
