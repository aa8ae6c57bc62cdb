import type { Command } from 'commander';
import type { MigrateApplyReport } from '../../migrate/apply.js';
import type { MigrateStatusReport } from '../../migrate/query.js';
import type { MigrateVerifyReport } from '../../migrate/verify.js';
import type { MigrationRow } from '../../migrate/table.js';
import { action } from '../action.js';
import { confirmedFor } from '../confirm.js';
import { lockTimeout } from './deploy.js';

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function firstLine(text: string | null): string {
  return (text ?? '').split('\n')[0] ?? '';
}

function renderStatus(report: MigrateStatusReport): string {
  const lines = [`migrations of remote "${report.remote}" (database "${report.database}", environment ${report.environment}, from ${report.directories.join(', ')}):`];
  if (report.migrations.length === 0) lines.push('  none in the repository');
  for (const m of report.migrations) {
    const row = m.recorded;
    let note = '';
    if (m.state === 'applied' && row) note = `${row.status === 'baseline' ? 'baseline' : 'applied'} ${when(row.appliedAt)} by ${row.appliedBy}`;
    else if (m.state === 'drifted' && row) note = `the file changed since it was applied ${when(row.appliedAt)}`;
    else if (m.state === 'failed' && row) note = `failed ${when(row.appliedAt)}: ${firstLine(row.error)}`;
    else if (m.state === 'missing' && row) note = `applied ${when(row.appliedAt)}, no longer in the repository`;
    else if (m.noTransaction) note = 'no transaction';
    lines.push(`  ${m.state.toUpperCase().padEnd(8)} ${m.id}${note ? `  (${note})` : ''}`);
  }
  lines.push(`${report.applied.length} applied, ${report.pending.length} pending, ${report.drifted.length} drifted, ${report.missing.length} missing, ${report.failed.length} failed`);
  return lines.join('\n');
}

function renderApply(report: MigrateApplyReport): string {
  if (report.result === 'dry_run') {
    return [
      `dry run: apply migrations to remote "${report.remote}" (database "${report.database}")`,
      report.wouldApply.length === 0 ? 'nothing pending' : `would apply ${report.wouldApply.length}, in this order:`,
      ...report.wouldApply.map((m) => `  ${m.id}${m.noTransaction ? '  (no transaction)' : ''}`),
      ...(report.later.length > 0 ? [`left for later (after --to): ${report.later.join(', ')}`] : []),
      ...(report.drifted.length > 0 ? [`drifted (allowed): ${report.drifted.join(', ')}`] : []),
      `backup first: ${report.backup && report.wouldApply.length > 0 ? 'yes' : 'no'}`,
      'nothing was changed.',
    ].join('\n');
  }
  if (report.applied.length === 0) return `no pending migrations for remote "${report.remote}" (database "${report.database}")`;
  return [
    `applied ${report.applied.length} migration(s) to remote "${report.remote}" (database "${report.database}"):`,
    ...report.applied.map((m) => `  ${m.id}  ${m.executionMs} ms${m.noTransaction ? ' (no transaction)' : ''}`),
    ...(report.later.length > 0 ? [`left for later (after --to): ${report.later.join(', ')}`] : []),
    `backup: ${report.backupId ?? 'none'}; run ${report.runId ?? ''}`,
  ].join('\n');
}

function renderHistory(remote: string, rows: MigrationRow[]): string {
  if (rows.length === 0) return `no migrations recorded on remote "${remote}"`;
  return [
    `migrations recorded on remote "${remote}", oldest first:`,
    ...rows.map((r) => [when(r.appliedAt), r.status.padEnd(11), r.id, r.executionMs === null ? '' : `${r.executionMs} ms`, r.appliedBy, firstLine(r.error)].filter(Boolean).join('  ')),
  ].join('\n');
}

function renderVerify(report: MigrateVerifyReport): string {
  const head = `schema of remote "${report.remote}" (database "${report.database}") against the template of environment "${report.environment}"`;
  const pending = report.pendingMigrations.length > 0 ? [`note: ${report.pendingMigrations.length} migration(s) pending on the remote: ${report.pendingMigrations.join(', ')}`] : [];
  if (report.matches) return [`${head}: same`, ...pending].join('\n');
  return [
    `${head}: ${report.missingInRemote.length + report.unexpectedInRemote.length} difference(s)`,
    ...report.missingInRemote.map((line) => `  missing in remote:    ${line}`),
    ...report.unexpectedInRemote.map((line) => `  unexpected in remote: ${line}`),
    ...pending,
  ].join('\n');
}

export function registerMigrateCommands(program: Command): void {
  const migrate = program.command('migrate').description('migrations on live databases');
  migrate
    .command('status')
    .description('applied, pending, drifted, missing and failed migrations of a remote')
    .requiredOption('-r, --remote <name>', 'remote')
    .option('-e, --env <name>', "environment (must match the remote's)")
    .option('--check', 'exit 3 when anything is pending or drifted')
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { migrateStatus } = await import('../../migrate/query.js');
        const report = await migrateStatus({ config, remote: options.remote as string, environment: options.env as string | undefined });
        ctx.out.result(report, () => renderStatus(report));
        return options.check === true && !report.ok ? 3 : 0;
      }),
    );
  migrate
    .command('apply')
    .description('apply pending migrations: backup first, each migration in its own transaction')
    .requiredOption('-r, --remote <name>', 'remote')
    .option('-e, --env <name>', "environment (must match the remote's)")
    .option('--to <id>', 'apply up to and including this migration')
    .option('--dry-run', 'list what would run and change nothing')
    .option('--confirm', 'confirm (production, require_confirmation)')
    .option('-y, --yes', 'same as --confirm')
    .option('--single-transaction', 'all pending migrations in one transaction: all or none')
    .option('--allow-drift', 'apply even though applied migrations changed since')
    .option('--lock-timeout <seconds>', 'give up when another operation holds the lock this long')
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const remote = options.remote as string;
        const dryRun = options.dryRun === true;
        const isConfirmed = dryRun ? false : await confirmedFor(ctx, remote, 'Apply migrations to', options);
        const { migrateApply } = await import('../../migrate/apply.js');
        const report = await migrateApply({
          config,
          remote,
          environment: options.env as string | undefined,
          to: options.to as string | undefined,
          dryRun,
          confirmed: isConfirmed,
          singleTransaction: options.singleTransaction === true,
          allowDrift: options.allowDrift === true,
          lockTimeoutMs: lockTimeout(options.lockTimeout),
          logger: ctx.out.logger(),
        });
        ctx.out.result(report, () => renderApply(report));
      }),
    );
  migrate
    .command('mark-applied')
    .description('record migrations as applied without running them (baseline an existing database)')
    .argument('<ids...>', 'migration ids (paths relative to the repository)')
    .requiredOption('-r, --remote <name>', 'remote')
    .option('-e, --env <name>', "environment (must match the remote's)")
    .option('--confirm', 'confirm (production, require_confirmation)')
    .option('-y, --yes', 'same as --confirm')
    .option('--lock-timeout <seconds>', 'give up when another operation holds the lock this long')
    .action(
      action(async (ctx, args, options) => {
        const config = await ctx.config();
        const remote = options.remote as string;
        const isConfirmed = await confirmedFor(ctx, remote, 'Mark migrations applied on', options);
        const { markApplied } = await import('../../migrate/query.js');
        const report = await markApplied({ config, remote, environment: options.env as string | undefined, ids: args, confirmed: isConfirmed, lockTimeoutMs: lockTimeout(options.lockTimeout) });
        ctx.out.result(report, () =>
          [`marked as applied (baseline) on remote "${report.remote}":`, ...report.marked.map((m) => `  ${m.id}${m.previous ? `  (was ${m.previous})` : ''}`)].join('\n'),
        );
      }),
    );
  migrate
    .command('history')
    .description('migrations recorded on a remote, oldest first')
    .requiredOption('-r, --remote <name>', 'remote')
    .option('-e, --env <name>', "environment (must match the remote's)")
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { migrateHistory } = await import('../../migrate/query.js');
        const report = await migrateHistory({ config, remote: options.remote as string, environment: options.env as string | undefined });
        ctx.out.result(report, () => renderHistory(report.remote, report.migrations));
      }),
    );
  migrate
    .command('verify')
    .description("compare the remote's schema with the environment's template; exit 3 when they differ")
    .requiredOption('-r, --remote <name>', 'remote')
    .option('-e, --env <name>', "environment whose template is the reference (default: the remote's)")
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { migrateVerify } = await import('../../migrate/verify.js');
        const report = await migrateVerify({ config, remote: options.remote as string, environment: options.env as string | undefined, logger: ctx.out.logger() });
        ctx.out.result(report, () => renderVerify(report));
        return report.matches ? 0 : 3;
      }),
    );
}
