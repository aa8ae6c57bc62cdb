import { Option, type Command } from 'commander';
import { action } from '../action.js';
import { envOption, name, remoteOption } from '../options.js';
import { libraryWithPg } from '../pg-probe.js';
import { seedAction } from './seed-action.js';

interface BuildFlags {
  env?: string;
  force?: boolean;
  runner?: 'inprocess' | 'psql';
}

interface StatusFlags {
  env?: string;
  remote?: string;
  check?: boolean;
}

export function registerTemplateCommands(program: Command): void {
  program
    .command('build')
    .description("build (or refresh) an environment's template database")
    .addOption(envOption())
    .option('--force', 'rebuild even when the template is fresh')
    .addOption(new Option('--runner <runner>', 'how SQL files run (default: [database] runner, else inprocess)').choices(['inprocess', 'psql'] as const))
    .action(
      action<BuildFlags>(async (ctx, _args, options) => {
        const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/local.js')]);
        const result = await api.build({ config, environment: options.env, force: options.force === true, runner: options.runner, logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderBuild(result));
      }),
    );
  program
    .command('seed')
    .description('create a database from the template in milliseconds (builds it first when stale)')
    .requiredOption('-o, --output <name>', 'name of the database to create', name)
    .addOption(envOption('environment (default: local, or the only one)'))
    .option('--force', 'replace an existing database of that name')
    .option('--rebuild', 'rebuild the template first even when fresh')
    .option('--watch', 'then keep it in step with the SQL files, as `dbfast watch --output` does (until Ctrl-C)')
    .action(action(seedAction));
  program
    .command('status')
    .description("each environment's template: missing, fresh or stale, and what changed; with --remote, what is deployed there")
    .addOption(envOption('only this environment').conflicts('remote'))
    .addOption(remoteOption(false, 'what is deployed on this remote instead'))
    .option('--check', 'exit 3 when anything is stale (with --remote: unreachable or unhealthy)')
    .action(
      action<StatusFlags>(async (ctx, _args, options) => {
        if (options.remote !== undefined) {
          const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/remote.js')]);
          const report = await api.remoteStatus({ config, remote: options.remote, logger: ctx.out.logger() });
          ctx.out.result(report, (style) => render.renderRemoteStatus(style, report));
          return options.check === true && !report.ok ? 3 : 0;
        }
        const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/local.js')]);
        const result = await api.status({ config, environment: options.env, logger: ctx.out.logger() });
        ctx.out.result(result, (style) => render.renderStatus(style, result));
        return options.check === true && !result.upToDate ? 3 : 0;
      }),
    );
  program
    .command('list')
    .description('databases dbfast made: templates and clones')
    .action(
      action(async (ctx) => {
        const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/local.js')]);
        const result = await api.list({ config });
        ctx.out.result(result, (style) => render.renderList(style, result));
      }),
    );
  program
    .command('drop')
    .description('drop databases dbfast made (never others)')
    .argument('[names...]', 'databases to drop')
    .option('--all-clones', 'drop every clone dbfast made')
    .action(
      action<{ allClones?: boolean }>(async (ctx, args, options) => {
        const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/local.js')]);
        const result = await api.drop({ config, names: args, allClones: options.allClones === true });
        ctx.out.result(result, () => render.renderDrop(result));
      }),
    );
}
