import path from 'node:path';
import type { Command } from 'commander';
import { action } from '../action.js';
import { formatBytes } from '../output.js';
import { table } from '../table.js';

export function registerEnvironmentCommands(program: Command): void {
  const environments = program.command('environments').description('list environments and the files each one gets');
  environments
    .command('list', { isDefault: true })
    .description('list environments with their file counts')
    .action(
      action(async (ctx) => {
        const config = await ctx.config();
        const { environmentSummaries } = await import('../../project/environments.js');
        const summaries = await environmentSummaries(config);
        ctx.out.result({ environments: summaries.map(({ name, files, production }) => ({ name, files, production })) }, () => {
          if (summaries.length === 0) return `no environments in ${config.configPath}`;
          return table(
            ['ENVIRONMENT', 'FILES', 'PRODUCTION', 'DESCRIPTION'],
            summaries.map((env) => [env.name, String(env.files), env.production ? 'yes' : '', env.description ?? '']),
            { alignRight: [1] },
          );
        });
      }),
    );
  environments
    .command('show <name>')
    .description('list the files of an environment in the order they run')
    .action(
      action(async (ctx, [name]) => {
        const config = await ctx.config();
        const { environmentFiles, environmentIncluded } = await import('../../project/environments.js');
        const { findEnvironment, guardViolations, isProductionEnvironment } = await import('../../project/filter.js');
        const environment = findEnvironment(config, name as string);
        const files = await environmentFiles(config, environment.name);
        const included = await environmentIncluded(config, environment.name);
        if (isProductionEnvironment(config, environment.name) && environment.allow_seed_data !== true) {
          const violations = guardViolations([...files, ...included]);
          if (violations.length > 0) {
            ctx.out.warn(`${violations.length} of these files ${violations.length === 1 ? 'looks' : 'look'} like development or test data; \`dbfast validate-env --env ${environment.name}\` lists them`);
          }
        }
        const includedRows = included.map((file) => ({ path: file.relativePath, includedFrom: file.includedFrom }));
        ctx.out.result({ environment: environment.name, files: files.map((file) => ({ path: file.relativePath, size: file.size })), included: includedRows }, () => {
          const total = files.reduce((sum, file) => sum + file.size, 0);
          const where = path.relative(process.cwd(), config.repository.path) || '.';
          const header = `environment ${environment.name}: ${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(total)}, in ${where}`;
          if (files.length === 0) return `${header}\n(no .sql file matches this environment)`;
          const rows = files.map((file, index) => [String(index + 1), file.relativePath, formatBytes(file.size)]);
          const listed = `${header}\n${table(['#', 'FILE', 'SIZE'], rows, { alignRight: [0, 2] })}`;
          if (includedRows.length === 0) return listed;
          return `${listed}\nincluded by those files (\\i / \\ir):\n${table(['FILE', 'INCLUDED FROM'], includedRows.map((row) => [row.path, row.includedFrom]))}`;
        });
      }),
    );
  program
    .command('validate-env')
    .description('check environments: missing folders, no files, production guard (exit 3 on problems)')
    .option('-e, --env <name>', 'environment to check (default: all)')
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { validateEnvironments } = await import('../../project/environments.js');
        const report = await validateEnvironments(config, options.env as string | undefined);
        ctx.out.result(report, () =>
          report.environments
            .map((env) => {
              const head = `${env.name}${env.production && env.name !== 'production' ? ' (production)' : ''}: ${env.files} file${env.files === 1 ? '' : 's'}, `;
              if (env.problems.length === 0) return `${head}ok`;
              const count = `${env.problems.length} problem${env.problems.length === 1 ? '' : 's'}`;
              return [`${head}${count}`, ...env.problems.map((problem) => `  - ${problem.message}`)].join('\n');
            })
            .join('\n'),
        );
        return report.ok ? 0 : 3;
      }),
    );
}
