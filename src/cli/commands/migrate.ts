import type { Command } from 'commander';
import { action } from '../action.js';
import { withConfirmation } from '../confirm.js';
import { libraryWithPg } from '../pg-probe.js';
import { confirmOption, envOption, lockTimeoutOption, name, remoteOption, wholeNumber, yesOption } from '../options.js';

interface RemoteFlags {
  remote: string;
  env?: string;
}

interface ConfirmFlags extends RemoteFlags {
  confirm?: boolean;
  yes?: boolean;
  lockTimeout?: number;
}

interface ApplyFlags extends ConfirmFlags {
  to?: string;
  dryRun?: boolean;
  singleTransaction?: boolean;
  allowDrift?: boolean;
}

export function registerMigrateCommands(program: Command): void {
  const migrate = program.command('migrate').alias('migration').description('migrations on live databases');
  migrate
    .command('status')
    .description('applied, pending, drifted, missing and failed migrations of a remote')
    .addOption(remoteOption())
    .addOption(envOption("environment (must match the remote's)"))
    .option('--check', 'exit 3 when anything is pending or drifted')
    .action(
      action<RemoteFlags & { check?: boolean }>(async (ctx, _args, options) => {
        const [config, { migrateStatus }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/migrate.js')]);
        const report = await migrateStatus({ config, remote: options.remote, environment: options.env });
        ctx.out.result(report, (style) => render.renderMigrateStatus(style, report));
        return options.check === true && !report.ok ? 3 : 0;
      }),
    );
  migrate
    .command('apply')
    .description('apply pending migrations: backup first, each migration in its own transaction')
    .addOption(remoteOption())
    .addOption(envOption("environment (must match the remote's)"))
    .option('--to <id>', 'apply up to and including this migration', name)
    .option('--dry-run', 'list what would run and change nothing')
    .addOption(confirmOption())
    .addOption(yesOption())
    .option('--single-transaction', 'all pending migrations in one transaction: all or none')
    .option('--allow-drift', 'apply even though applied migrations changed since')
    .addOption(lockTimeoutOption())
    .action(
      action<ApplyFlags>(async (ctx, _args, options) => {
        const [config, { migrateApply }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/migrate.js')]);
        const report = await withConfirmation(ctx, { ...options, what: 'Apply migrations to' }, (confirmed) =>
          migrateApply({
            config,
            remote: options.remote,
            environment: options.env,
            to: options.to,
            dryRun: options.dryRun === true,
            confirmed,
            singleTransaction: options.singleTransaction === true,
            allowDrift: options.allowDrift === true,
            lockTimeoutMs: options.lockTimeout,
            logger: ctx.out.logger(),
          }),
        );
        ctx.out.result(report, () => render.renderMigrateApply(report));
      }),
    );
  migrate
    .command('mark-applied')
    .description('record migrations as applied without running them (baseline an existing database)')
    .argument('<ids...>', 'migration ids (paths relative to the repository)')
    .addOption(remoteOption())
    .addOption(envOption("environment (must match the remote's)"))
    .addOption(confirmOption())
    .addOption(yesOption())
    .addOption(lockTimeoutOption())
    .action(
      action<ConfirmFlags>(async (ctx, args, options) => {
        const [config, { markApplied }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/migrate.js')]);
        const report = await withConfirmation(ctx, { ...options, what: 'Mark migrations applied in' }, (confirmed) =>
          markApplied({ config, remote: options.remote, environment: options.env, ids: args, confirmed, lockTimeoutMs: options.lockTimeout, logger: ctx.out.logger() }),
        );
        ctx.out.result(report, () => render.renderMarkApplied(report));
      }),
    );
  migrate
    .command('history')
    .description('migrations recorded on a remote, oldest first')
    .addOption(remoteOption())
    .addOption(envOption("environment (must match the remote's)"))
    .option('--limit <n>', 'only the newest N (default: all)', wholeNumber(1))
    .action(
      action<RemoteFlags & { limit?: number }>(async (ctx, _args, options) => {
        const [config, { migrateHistory }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/migrate.js')]);
        const report = await migrateHistory({ config, remote: options.remote, environment: options.env, limit: options.limit });
        ctx.out.result(report, (style) => render.renderMigrateHistory(style, report.remote, report.migrations));
      }),
    );
  migrate
    .command('verify')
    .description("compare the remote's schema with the environment's template; exit 3 when they differ")
    .addOption(remoteOption())
    .addOption(envOption("environment whose template is the reference (default: the remote's)"))
    .action(
      action<RemoteFlags>(async (ctx, _args, options) => {
        const [config, { migrateVerify }, render] = await Promise.all([ctx.config(), libraryWithPg(), import('../render/migrate.js')]);
        const report = await migrateVerify({ config, remote: options.remote, environment: options.env, logger: ctx.out.logger() });
        ctx.out.result(report, (style) => render.renderMigrateVerify(style, report));
        return report.matches ? 0 : 3;
      }),
    );
}
