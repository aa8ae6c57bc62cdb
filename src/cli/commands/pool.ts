import type { Command } from 'commander';
import { DbfastError } from '../../errors.js';
import type { FillResult, PoolDrainResult, PoolStatusResult } from '../../index.js';
import { action } from '../action.js';
import { formatBytes } from '../output.js';
import { table } from '../table.js';

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function sizeOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 0) throw new DbfastError('USAGE', `--size must be a whole number ≥ 0, not "${String(value)}"`);
  return size;
}

export function renderPoolStatus(result: PoolStatusResult): string {
  const lines = result.environments.map((entry) => `${entry.environment}: ${entry.ready} ready of ${entry.size} (${entry.template})${entry.stale > 0 ? `, ${entry.stale} stale` : ''}`);
  lines.push(`server: ${result.total} pooled database${result.total === 1 ? '' : 's'} of at most ${result.maxClones}${result.making > 0 ? ` (${result.making} being made)` : ''}`);
  if (result.databases.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['NAME', 'STATE', 'ENV', 'SIZE', 'HELD BY', 'NOTE'],
        result.databases.map((database) => [
          database.name,
          database.state,
          database.environment ?? '',
          database.sizeBytes === null ? '?' : formatBytes(database.sizeBytes),
          database.heldBy ?? '',
          database.reason ?? '',
        ]),
      ),
    );
  }
  if (result.environments.some((entry) => entry.stale > 0)) lines.push('', 'stale ones are dropped by the next pool, `dbfast pool fill`, `dbfast pool drain` or `dbfast drop --stale`');
  return lines.join('\n');
}

function renderFill(result: FillResult): string {
  const lines = [`${result.environment}: ${result.ready} ready of ${result.size} (${result.template}); made ${result.created.length}`];
  for (const entry of result.dropped) lines.push(`dropped ${entry.name}: ${entry.reason}`);
  if (result.capped) lines.push('stopped short: the server holds [pool] max_clones pooled databases');
  return lines.join('\n');
}

function renderDrain(result: PoolDrainResult): string {
  if (result.dropped.length === 0) return 'nothing to drain';
  return result.dropped.map((entry) => `dropped ${entry.name} (${entry.reason})`).join('\n');
}

/** `dbfast pool status|fill|drain`: the ready databases `dbfast seed` takes (and test suites' pools share). */
export function registerPoolCommands(program: Command): void {
  const pool = program.command('pool').description('ready databases kept on the local server, for instant seeds and test suites');
  pool
    .command('status')
    .description("this project's pooled databases: ready, leased, stale; and the server's count against max_clones")
    .option('-e, --env <name>', 'only this environment')
    .action(
      action(async (ctx, _args, options) => {
        const [config, api] = await Promise.all([ctx.config(), import('../../index.js')]);
        const result = await api.poolStatus({ config, environment: str(options.env) });
        ctx.out.result(result, () => renderPoolStatus(result));
      }),
    );
  pool
    .command('fill')
    .description('build the template when stale, drop leftovers, make ready databases up to [pool] size')
    .option('-e, --env <name>', 'environment (default: local, or the only one)')
    .option('--size <n>', 'ready databases to have (default: [pool] size)')
    .action(
      action(async (ctx, _args, options) => {
        const size = sizeOption(options.size);
        const [config, api] = await Promise.all([ctx.config(), import('../../index.js')]);
        const result = await api.fillPool({ config, environment: str(options.env), size, logger: ctx.out.logger() });
        ctx.out.result(result, () => renderFill(result));
      }),
    );
  pool
    .command('drain')
    .description('drop the ready databases and leftovers of this project (leases of running processes stay)')
    .option('-e, --env <name>', 'only this environment')
    .action(
      action(async (ctx, _args, options) => {
        const [config, api] = await Promise.all([ctx.config(), import('../../index.js')]);
        const result = await api.drainPool({ config, environment: str(options.env) });
        ctx.out.result(result, () => renderDrain(result));
      }),
    );
}
