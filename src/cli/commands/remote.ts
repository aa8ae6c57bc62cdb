import type { Command } from 'commander';
import { table } from '../table.js';
import { action } from '../action.js';


const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

export function registerRemoteCommands(program: Command): void {
  const remote = program.command('remote').description('remote databases you deploy to');
  remote
    .command('add')
    .description('add a remote to dbfast.toml (keeps your comments)')
    .requiredOption('--name <name>', 'remote name')
    .requiredOption('--url <url>', 'postgres:// URL (put the password in --password-env, not here)')
    .requiredOption('--env <environment>', 'environment deployed to it')
    .option('--password-env <var>', 'environment variable that holds the password')
    .option('--allow-destructive', 'allow replacing the database on deploy')
    .option('--no-backup', 'do not back up before deploys (refused for production)')
    .option('--require-confirmation', 'deploys need --confirm')
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { addRemote, summarizeRemote } = await import('../../config/remotes.js');
        const { remote: created, warnings } = addRemote(config, {
          name: String(options.name),
          url: String(options.url),
          environment: String(options.env),
          passwordEnv: options.passwordEnv === undefined ? undefined : String(options.passwordEnv),
          allowDestructive: options.allowDestructive === true,
          backupBeforeDeploy: options.backup !== false,
          requireConfirmation: options.requireConfirmation === true,
        });
        for (const warning of warnings) ctx.out.warn(warning);
        ctx.out.result({ remote: summarizeRemote(created), warnings }, () => `added remote ${created.name} (environment ${created.environment}) to ${config.configPath}`);
      }),
    );
  remote
    .command('list')
    .description('list remotes (passwords masked)')
    .action(
      action(async (ctx) => {
        const config = await ctx.config();
        const { listRemotes } = await import('../../config/remotes.js');
        const remotes = listRemotes(config);
        ctx.out.result({ remotes }, () => {
          if (remotes.length === 0) return `no remotes in ${config.configPath}; add one with dbfast remote add --name N --url URL --env ENV`;
          return table(
            ['NAME', 'ENVIRONMENT', 'URL', 'PASSWORD FROM', 'BACKUP', 'CONFIRM', 'DESTRUCTIVE'],
            remotes.map((r) => [
              r.name,
              r.environment,
              r.url,
              r.passwordEnv ? `$${r.passwordEnv}` : 'URL/PGPASSWORD/~/.pgpass',
              yesNo(r.backupBeforeDeploy),
              yesNo(r.requireConfirmation),
              yesNo(r.allowDestructive),
            ]),
          );
        });
      }),
    );
  remote
    .command('remove <name>')
    .description('remove a remote from dbfast.toml')
    .action(
      action(async (ctx, [name]) => {
        const config = await ctx.config();
        const { removeRemote } = await import('../../config/remotes.js');
        removeRemote(config, name as string);
        ctx.out.result({ removed: name }, () => `removed remote ${name} from ${config.configPath}`);
      }),
    );
  remote
    .command('test <name>')
    .description('connect and report version, privileges, tools and latency (exit 3 when something needed is missing)')
    .action(
      action(async (ctx, [name]) => {
        const config = await ctx.config();
        const { findRemote } = await import('../../config/targets.js');
        const { testRemote } = await import('../../validate/remote-test.js');
        const report = await testRemote(config, findRemote(config, name as string));
        ctx.out.result(report, () => {
          const label = { error: 'FAIL', warning: 'WARN', info: 'ok' } as const;
          const width = Math.max(...report.checks.map((check) => check.name.length));
          const lines = [`remote ${report.remote}: ${report.url}`];
          for (const check of report.checks) {
            lines.push(`  ${(check.ok ? 'ok' : label[check.severity]).padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}`);
            if (!check.ok && check.hint) lines.push(`        ${''.padEnd(width)}  hint: ${check.hint}`);
          }
          const errors = report.checks.filter((check) => !check.ok && check.severity === 'error').length;
          const warnings = report.checks.filter((check) => !check.ok && check.severity === 'warning').length;
          lines.push(
            errors > 0
              ? `${errors} problem${errors === 1 ? '' : 's'} found: ${report.remote} is not ready for backups and deploys`
              : `${report.remote} is ready${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}`,
          );
          return lines.join('\n');
        });
        return report.ok ? 0 : 3;
      }),
    );
}
