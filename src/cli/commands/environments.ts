import type { Command } from 'commander';
import { action } from '../action.js';
import { envOption } from '../options.js';

export function registerEnvironmentCommands(program: Command): void {
  const environments = program.command('environments').description('list environments and the files each one gets');
  environments
    .command('list', { isDefault: true })
    .description('list environments with their file counts')
    .action(
      action(async (ctx) => {
        const config = await ctx.config();
        const [{ environmentSummaries }, render] = await Promise.all([import('../../project/environments.js'), import('../render/local.js')]);
        const summaries = await environmentSummaries(config);
        ctx.out.result({ environments: summaries.map(({ name, files, production }) => ({ name, files, production })) }, (style) =>
          render.renderEnvironments(style, config.configPath, summaries),
        );
      }),
    );
  environments
    .command('show <name>')
    .description('list the files of an environment in the order they run')
    .action(
      action(async (ctx, [name]) => {
        const config = await ctx.config();
        const [{ environmentFiles }, { findEnvironment, guardViolations, isProductionEnvironment }, render] = await Promise.all([
          import('../../project/environments.js'),
          import('../../project/filter.js'),
          import('../render/local.js'),
        ]);
        const environment = findEnvironment(config, name as string);
        const files = await environmentFiles(config, environment.name);
        if (isProductionEnvironment(config, environment.name) && environment.allow_seed_data !== true) {
          const violations = guardViolations(files);
          if (violations.length > 0) {
            ctx.out.warn(`${violations.length} of these files ${violations.length === 1 ? 'looks' : 'look'} like development or test data; \`dbfast validate-env --env ${environment.name}\` lists them`);
          }
        }
        ctx.out.result({ environment: environment.name, files: files.map((file) => ({ path: file.relativePath, size: file.size })) }, (style) =>
          render.renderEnvironmentFiles(style, environment.name, config.repository.path, files),
        );
      }),
    );
  program
    .command('validate-env')
    .description('check environments: missing folders, no files, production guard (exit 3 on problems)')
    .addOption(envOption('environment to check (default: all)'))
    .action(
      action<{ env?: string }>(async (ctx, _args, options) => {
        const config = await ctx.config();
        const [{ validateEnvironments }, render] = await Promise.all([import('../../project/environments.js'), import('../render/local.js')]);
        const report = await validateEnvironments(config, options.env);
        ctx.out.result(report, (style) => render.renderValidateEnv(style, report));
        return report.ok ? 0 : 3;
      }),
    );
}
