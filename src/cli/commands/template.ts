import type { Command } from 'commander';
import { DbfastError } from '../../errors.js';
import { action } from '../action.js';
import { leanConfig } from '../lean-config.js';
import { importSkippingPgProbe } from '../pg-probe.js';
import { seedAction } from './seed-action.js';

function runnerOption(value: unknown): 'inprocess' | 'psql' | undefined {
  if (value === undefined || value === 'inprocess' || value === 'psql') return value;
  throw new DbfastError('USAGE', `--runner must be inprocess or psql, not "${String(value)}"`);
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function registerTemplateCommands(program: Command): void {
  program
    .command('build')
    .description("build (or refresh) an environment's template database")
    .option('-e, --env <name>', 'environment')
    .option('--force', 'rebuild even when the template is fresh')
    .option('--runner <runner>', 'inprocess (default) or psql')
    .action(
      action(async (ctx, _args, options) => {
        const runner = runnerOption(options.runner);
        const [config, { buildTemplate }, render] = await Promise.all([
          leanConfig(ctx),
          importSkippingPgProbe(() => import('../../local/build.js')),
          import('./template-render.js'),
        ]);
        const result = await buildTemplate({ config, environment: str(options.env), force: options.force === true, runner, logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderBuild(result));
      }),
    );
  program
    .command('seed')
    .description('create a database from the template in milliseconds (builds it first when stale)')
    .requiredOption('-o, --output <name>', 'name of the database to create')
    .option('-e, --env <name>', 'environment (default: local, or the only one)')
    .option('--force', 'replace an existing database of that name')
    .option('--rebuild', 'rebuild the template first even when fresh')
    .action(action(seedAction));
  program
    .command('status')
    .description("each environment's template: missing, fresh or stale, and what changed")
    .option('-e, --env <name>', 'only this environment')
    .option('--remote <name>', 'what is deployed on a remote')
    .option('--check', 'exit 3 when anything is stale (with --remote: unreachable or unhealthy)')
    .action(
      action(async (ctx, _args, options) => {
        if (options.remote !== undefined) {
          if (options.env !== undefined) throw new DbfastError('USAGE', '--env does not go with --remote: a remote has its own environment', { hint: 'Drop --env.' });
          const [config, { remoteStatus }, render] = await Promise.all([ctx.config(), import('../../deploy/remote-status.js'), import('./remote-status-render.js')]);
          const report = await remoteStatus({ config, remote: String(options.remote), logger: ctx.out.logger() });
          ctx.out.result(report, () => render.renderRemoteStatus(report));
          return options.check === true && !report.ok ? 3 : 0;
        }
        const [config, api, render] = await Promise.all([
          leanConfig(ctx),
          importSkippingPgProbe(() => import('../../local/status.js')),
          import('./template-render.js'),
        ]);
        const result = await api.status({ config, environment: str(options.env) });
        ctx.out.result(result, () => render.renderStatus(result));
        return options.check === true && !result.upToDate ? 3 : 0;
      }),
    );
  program
    .command('list')
    .description('databases dbfast made: templates and clones')
    .action(
      action(async (ctx) => {
        const [config, api, render] = await Promise.all([ctx.config(), import('../../index.js'), import('./template-render.js')]);
        const result = await api.list({ config });
        ctx.out.result(result, () => render.renderList(result));
      }),
    );
  program
    .command('drop')
    .description('drop databases dbfast made (never others)')
    .argument('[names...]', 'databases to drop')
    .option('--all-clones', 'drop every clone dbfast made')
    .option('--stale', "drop what this project's pools left: leases of processes that are gone, half-made and outdated ready databases")
    .action(
      action(async (ctx, args, options) => {
        const [config, api, render] = await Promise.all([ctx.config(), import('../../index.js'), import('./template-render.js')]);
        const result = await api.drop({ config, names: args, allClones: options.allClones === true, stale: options.stale === true });
        ctx.out.result(result, () => render.renderDrop(result));
      }),
    );
}
