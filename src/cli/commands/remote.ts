import type { Command } from 'commander';
import { DbfastError } from '../../errors.js';
import { action } from '../action.js';
import { withConfirmation } from '../confirm.js';
import { confirmOption, envOption, name, yesOption } from '../options.js';
import { libraryWithPg } from '../pg-probe.js';

interface AddFlags {
  name: string;
  url: string;
  env: string;
  passwordEnv?: string;
  allowDestructive?: boolean;
  backup: boolean;
  requireConfirmation?: boolean;
}

interface UpdateFlags {
  name?: string;
  url?: string;
  env?: string;
  passwordEnv?: string;
  allowDestructive?: boolean;
  backup?: boolean;
  requireConfirmation?: boolean;
  owner?: boolean;
  privileges?: boolean;
  keepPrevious?: boolean;
}

/** `remote test staging` or `remote test --name staging` (the specification's spelling): one of them. */
function remoteName(args: string[], flag: string | undefined, command: string): string {
  const [positional] = args;
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new DbfastError('USAGE', `two remotes given: "${positional}" and --name "${flag}"`, { hint: 'Name the remote once.' });
  }
  const chosen = positional ?? flag;
  if (chosen === undefined) throw new DbfastError('USAGE', `which remote? dbfast remote ${command} NAME (or --name NAME)`, { hint: 'See `dbfast remote list`.' });
  return chosen;
}

export function registerRemoteCommands(program: Command): void {
  const remote = program.command('remote').description('remote databases you deploy to');
  remote
    .command('add')
    .description('add a remote to dbfast.toml (keeps your comments)')
    .requiredOption('--name <name>', 'remote name', name)
    .requiredOption('--url <url>', 'postgres:// URL (put the password in --password-env, not here)')
    .addOption(envOption('environment deployed to it').makeOptionMandatory())
    .option('--password-env <var>', 'environment variable that holds the password', name)
    .option('--allow-destructive', 'allow replacing the database on deploy')
    .option('--no-backup', 'do not back up before deploys (refused for production)')
    .option('--require-confirmation', 'deploys need --confirm')
    .action(
      action<AddFlags>(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { addRemote } = await import('../../index.js');
        const { remote: created, warnings } = await addRemote({
          config,
          name: options.name,
          url: options.url,
          environment: options.env,
          passwordEnv: options.passwordEnv,
          allowDestructive: options.allowDestructive === true,
          backupBeforeDeploy: options.backup,
          requireConfirmation: options.requireConfirmation === true,
        });
        for (const warning of warnings) ctx.out.warn(warning);
        ctx.out.result({ remote: created, warnings }, () => `added remote ${created.name} (environment ${created.environment}) to ${config.configPath}`);
      }),
    );
  remote
    .command('update')
    .description("change a remote's keys in dbfast.toml (only those lines; comments kept)")
    .argument('[name]', 'remote name (or --name)')
    .option('--name <name>', 'remote name', name)
    .option('--url <url>', 'postgres:// URL (put the password in --password-env, not here)')
    .addOption(envOption('environment deployed to it'))
    .option('--password-env <var>', 'environment variable that holds the password', name)
    .option('--allow-destructive', 'allow replacing the database on deploy')
    .option('--no-allow-destructive', 'deploys only apply migrations')
    .option('--backup', 'back up before deploys')
    .option('--no-backup', 'do not back up before deploys (refused for production)')
    .option('--require-confirmation', 'deploys need --confirm')
    .option('--no-require-confirmation', 'deploys need no --confirm (production always does)')
    .option('--owner', 'restore object owners (no_owner = false)')
    .option('--no-owner', 'restore without object owners (pg_restore --no-owner)')
    .option('--privileges', 'restore privileges (no_privileges = false)')
    .option('--no-privileges', 'restore without privileges (pg_restore --no-privileges)')
    .option('--keep-previous', 'keep the previous database after a deploy, for rollback')
    .option('--no-keep-previous', 'drop the previous database after a deploy')
    .action(
      action<UpdateFlags>(async (ctx, args, options) => {
        const chosen = remoteName(args, options.name, 'update');
        const config = await ctx.config();
        const { updateRemote } = await import('../../index.js');
        const negated = (value: boolean | undefined): boolean | undefined => (value === undefined ? undefined : !value);
        const result = await updateRemote({
          config,
          name: chosen,
          changes: {
            url: options.url,
            environment: options.env,
            passwordEnv: options.passwordEnv,
            allowDestructive: options.allowDestructive,
            backupBeforeDeploy: options.backup,
            requireConfirmation: options.requireConfirmation,
            noOwner: negated(options.owner),
            noPrivileges: negated(options.privileges),
            keepPrevious: options.keepPrevious,
          },
        });
        ctx.out.result(result, () => `updated remote ${chosen} in ${config.configPath}: ${result.changed.join(', ')}`);
      }),
    );
  remote
    .command('list')
    .description('list remotes (passwords masked)')
    .action(
      action(async (ctx) => {
        const config = await ctx.config();
        const [{ listRemotes }, render] = await Promise.all([import('../../index.js'), import('../render/remote.js')]);
        const remotes = await listRemotes({ config });
        ctx.out.result({ remotes }, (style) => render.renderRemoteList(style, config.configPath, remotes));
      }),
    );
  remote
    .command('remove')
    .description('remove a remote from dbfast.toml')
    .argument('[name]', 'remote name (or --name)')
    .option('--name <name>', 'remote name', name)
    .action(
      action<{ name?: string }>(async (ctx, args, options) => {
        const chosen = remoteName(args, options.name, 'remove');
        const config = await ctx.config();
        const { removeRemote } = await import('../../index.js');
        await removeRemote({ config, name: chosen });
        ctx.out.result({ removed: chosen }, () => `removed remote ${chosen} from ${config.configPath}`);
      }),
    );
  remote
    .command('test')
    .description('connect and report version, privileges, tools and latency (exit 3 when something needed is missing)')
    .argument('[name]', 'remote name (or --name)')
    .option('--name <name>', 'remote name', name)
    .action(
      action<{ name?: string }>(async (ctx, args, options) => {
        const chosen = remoteName(args, options.name, 'test');
        const config = await ctx.config();
        const [{ testRemote }, render] = await Promise.all([libraryWithPg(), import('../render/remote.js')]);
        const report = await testRemote({ config, remote: chosen });
        ctx.out.result(report, (style) => render.renderRemoteTest(style, report));
        return report.ok ? 0 : 3;
      }),
    );
  remote
    .command('setup')
    .description("run [repository] cluster_setup (roles, memberships) on a remote; needs CREATEROLE")
    .argument('[name]', 'remote name (or --name)')
    .option('--name <name>', 'remote name', name)
    .addOption(confirmOption('confirm (production, require_confirmation) without a prompt'))
    .addOption(yesOption())
    .option('--dry-run', 'list what would run and change nothing')
    .option('--force', 'run the files even when this setup already ran there and its roles exist')
    .action(
      action<{ name?: string; confirm?: boolean; yes?: boolean; dryRun?: boolean; force?: boolean }>(async (ctx, args, options) => {
        const chosen = remoteName(args, options.name, 'setup');
        const config = await ctx.config();
        const [{ remoteSetup }, render] = await Promise.all([libraryWithPg(), import('../render/remote.js')]);
        const report = await withConfirmation(ctx, { ...options, remote: chosen, what: 'Run the cluster setup on' }, (confirmed) =>
          remoteSetup({ config, remote: chosen, confirmed, dryRun: options.dryRun === true, force: options.force === true, logger: ctx.out.logger() }),
        );
        ctx.out.result(report, (style) => render.renderRemoteSetup(style, report));
      }),
    );
}
