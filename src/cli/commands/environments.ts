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
        const [{ environmentSummaries }, render] = await Promise.all([import('../../index.js'), import('../render/local.js')]);
        const summaries = await environmentSummaries({ config });
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
        const [{ showEnvironment }, render] = await Promise.all([import('../../index.js'), import('../render/local.js')]);
        const shown = await showEnvironment({ config: await ctx.config(), name: name as string });
        const count = shown.guardViolations;
        if (count > 0) {
          ctx.out.warn(`${count} of these files ${count === 1 ? 'looks' : 'look'} like development or test data; \`dbfast validate-env --env ${shown.environment}\` lists them`);
        }
        const included = shown.included.map((file) => ({ path: file.relativePath, includedFrom: file.includedFrom }));
        // Named repositories are listed; the simple case's JSON stays as it was.
        const named = shown.repositories.some((repository) => repository.name !== undefined);
        ctx.out.result({ environment: shown.environment, ...(named ? { repositories: shown.repositories } : {}), files: shown.files.map((file) => ({ path: file.relativePath, size: file.size })), included }, (style) =>
          render.renderEnvironmentFiles(style, shown),
        );
      }),
    );
  program
    .command('validate-env')
    .description('check environments: missing folders, no files, production guard (exit 3 on problems)')
    .addOption(envOption('environment to check (default: all)'))
    .action(
      action<{ env?: string }>(async (ctx, _args, options) => {
        const [{ validateEnvironments }, render] = await Promise.all([import('../../index.js'), import('../render/local.js')]);
        const report = await validateEnvironments({ config: await ctx.config(), name: options.env });
        ctx.out.result(report, (style) => render.renderValidateEnv(style, report));
        return report.ok ? 0 : 3;
      }),
    );
}
