import { Option, type Command } from 'commander';
import { DbfastError } from '../../errors.js';
import { action } from '../action.js';
import { withConfirmation } from '../confirm.js';
import { confirmOption, envOption, lockTimeoutOption, name, remoteOption, repeatable, wholeNumber, yesOption } from '../options.js';
import { libraryWithPg } from '../pg-probe.js';

interface DeployFlags {
  remote?: string;
  env?: string;
  confirm?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  skipBackup?: boolean;
  backupBefore?: boolean;
  mode?: 'replace' | 'migrate';
  jobs?: number;
  lockTimeout?: number;
  group: string[];
  skipGroup: string[];
  continueOnFailure?: boolean;
  /** False with --no-health-check. */
  healthCheck: boolean;
  skipValidation?: boolean;
}

interface RollbackFlags {
  remote: string;
  to: string;
  confirm?: boolean;
  yes?: boolean;
  lockTimeout?: number;
}

/** `deploy staging` or `deploy --remote staging`: one of them. */
function deployRemote(args: string[], flag: string | undefined): string {
  const [positional] = args;
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new DbfastError('USAGE', `two remotes given: "${positional}" and --remote "${flag}"`, { hint: 'Name the remote once.' });
  }
  const chosen = flag ?? positional;
  if (!chosen) throw new DbfastError('USAGE', 'which remote? pass --remote NAME (or dbfast deploy NAME)', { hint: 'See `dbfast remote list`.' });
  return chosen;
}

export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description("deploy an environment's template to a remote: backup, side restore, validate, swap")
    .argument('[remote]', 'remote name (same as --remote)')
    .addOption(remoteOption(false))
    .addOption(envOption("environment (must match the remote's)"))
    .addOption(confirmOption())
    .addOption(yesOption())
    .option('--dry-run', 'print the plan and the checks and change nothing (exit 3 when a check fails)')
    .addOption(new Option('--backup-before', "back up first (the default; production always does)").conflicts('skipBackup'))
    .option('--skip-backup', 'no backup first (refused for production)')
    .addOption(new Option('--mode <mode>', 'replace or migrate (default: replace where allow_destructive, else migrate)').choices(['replace', 'migrate'] as const))
    .option('-j, --jobs <n>', 'pg_restore jobs for the new database (default 2)', wholeNumber(1))
    .addOption(lockTimeoutOption('give up when another operation or a locked table holds it up this long'))
    .option('--group <name>', 'run only this deploy group (repeatable)', repeatable(name), [])
    .option('--skip-group <name>', 'do not run this deploy group (repeatable)', repeatable(name), [])
    .option('--continue-on-failure', 'a failing deploy group warns instead of rolling the deploy back')
    .option('--no-health-check', "run no health check (the remote's nor the groups'); noted in the history")
    .option('--skip-validation', 'do not check required variables (required_env); noted in the history')
    .action(
      action<DeployFlags>(async (ctx, args, options) => {
        const remote = deployRemote(args, options.remote);
        const [config, { deploy }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/deploy.js')]);
        const report = await withConfirmation(ctx, { ...options, remote, what: 'Deploy to' }, (confirmed) =>
          deploy({
            config,
            remote,
            environment: options.env,
            confirmed,
            dryRun: options.dryRun === true,
            skipBackup: options.skipBackup === true,
            mode: options.mode,
            jobs: options.jobs ?? 2,
            lockTimeoutMs: options.lockTimeout,
            groups: options.group,
            skipGroups: options.skipGroup,
            continueOnFailure: options.continueOnFailure === true,
            skipHealthChecks: !options.healthCheck,
            skipValidation: options.skipValidation === true,
            logger: ctx.out.logger(),
          }),
        );
        const { plan, ...rest } = report;
        ctx.out.result(plan ? { ...rest, plan } : rest, (style) => render.renderDeploy(style, report));
        // A dry run is a check command (what CI runs before the deploy): exit 3 when a check failed, as `remote test` does.
        return report.ok ? 0 : 3;
      }),
    );
  program
    .command('rollback')
    .description('swap back to the previous database, or restore a backup')
    .addOption(remoteOption())
    .option('--to <target>', 'previous (default), a backup id, or latest', name, 'previous')
    .addOption(confirmOption())
    .addOption(yesOption())
    .addOption(lockTimeoutOption())
    .action(
      action<RollbackFlags>(async (ctx, _args, options) => {
        // A rollback should take about a second: pg without its fetch probe (and the config loader skips re-validating an unchanged file).
        const [config, { rollback }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/deploy.js')]);
        const report = await withConfirmation(ctx, { ...options, what: 'Roll back' }, (confirmed) =>
          rollback({ config, remote: options.remote, to: options.to, confirmed, lockTimeoutMs: options.lockTimeout, logger: ctx.out.logger() }),
        );
        ctx.out.result(report, () => render.renderRollback(report));
      }),
    );
  program
    .command('history')
    .description('deploys, rollbacks and restores recorded on a remote (default: all remotes), newest first')
    .addOption(remoteOption(false, 'only this remote (default: all remotes, merged)'))
    .option('--limit <n>', 'how many', wholeNumber(1), 20)
    .option('--local', 'read the local history (.dbfast/history) instead of the remote')
    .action(
      action<{ remote?: string; limit: number; local?: boolean }>(async (ctx, _args, options) => {
        const [config, api, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/deploy.js')]);
        const common = { config, limit: options.limit, local: options.local === true, logger: ctx.out.logger() };
        if (options.remote === undefined) {
          const result = await api.historyAllRemotes(common);
          ctx.out.result(result, (style) => render.renderAllHistory(style, result));
          return;
        }
        const result = await api.history({ ...common, remote: options.remote });
        ctx.out.result(result, (style) => render.renderHistory(style, result));
      }),
    );
  program
    .command('stats')
    .description('deploy statistics: success rate, durations')
    .addOption(remoteOption(false, 'only this remote (default: all)'))
    .option('--days <n>', 'window in days', wholeNumber(1), 30)
    .action(
      action<{ remote?: string; days: number }>(async (ctx, _args, options) => {
        const [config, { stats }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/remote.js')]);
        const result = await stats({ config, remote: options.remote, days: options.days, logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderStats(result));
      }),
    );
}
