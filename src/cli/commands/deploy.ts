import type { Command } from 'commander';
import { DbfastError } from '../../errors.js';
import { action } from '../action.js';
import { confirmedFor } from '../confirm.js';
import { importSkippingPgProbe } from '../pg-probe.js';

export function lockTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new DbfastError('USAGE', `--lock-timeout takes seconds, not "${String(value)}"`, { hint: 'e.g. --lock-timeout 60' });
  }
  return seconds * 1000;
}

function renderDeploy(report: import('../../deploy/deploy.js').DeployReport): string {
  if (report.plan) {
    const plan = report.plan;
    const lines = [
      `dry run: deploy environment "${plan.environment}" to remote "${plan.remote}" (${plan.url})`,
      ...(plan.migrations
        ? [`migrations to apply:${plan.migrations.length === 0 ? ' none' : ''}`, ...plan.migrations.map((id) => `  ${id}`)]
        : [`template: ${plan.template.name} (${plan.template.state}, ${plan.template.files} files)`, ...plan.template.changed.slice(0, 20).map((line) => `  ${line}`)]),
      `replaces: ${plan.replaces}`,
      `backup: ${plan.backup}`,
      `mode: ${plan.mode ?? 'none (see checks)'}`,
      'checks:',
      ...plan.checks.map((c) => `  ${c.ok ? 'ok  ' : c.severity === 'error' ? 'FAIL' : 'warn'} ${c.name}: ${c.detail}${!c.ok && c.hint ? `\n       fix: ${c.hint}` : ''}`),
      'steps:',
      ...plan.steps.map((step, i) => `  ${i + 1}. ${step}`),
      'nothing was changed.',
    ];
    return lines.join('\n');
  }
  const phases = report.phases.map((p) => `${p.name} ${p.durationMs} ms`).join(', ');
  const migrations = report.migrations ? [`migrations applied: ${report.migrations.length === 0 ? 'none (nothing pending)' : report.migrations.join(', ')}`] : [];
  return [
    `deployed environment "${report.environment}" to remote "${report.remote}" (database "${report.database}", ${report.mode})`,
    ...migrations,
    `backup: ${report.backupId ?? 'none'}; previous database: ${report.previous ?? 'none'}`,
    ...(report.health ? [`health: ${report.health.url} answered ${report.health.status}`] : []),
    ...report.warnings.map((warning) => `warning: ${warning}`),
    `${report.durationMs} ms: ${phases}`,
  ].join('\n');
}

/** The history's trigger column: `manual`, or the webhook delivery that started the run. */
export function triggerText(trigger: import('../../history/records.js').DeployTrigger | null): string {
  if (!trigger) return 'manual';
  return `${trigger.provider} ${trigger.commit.slice(0, 12)}${trigger.sender ? ` by ${trigger.sender}` : ''} (delivery ${trigger.deliveryId})`;
}

export function registerDeployCommands(program: Command): void {
  program
    .command('deploy')
    .description("deploy an environment's template to a remote: backup, side restore, validate, swap")
    .argument('[remote]', 'remote name (same as --remote)')
    .option('-r, --remote <name>', 'remote')
    .option('-e, --env <name>', "environment (must match the remote's)")
    .option('--confirm', 'confirm a deploy that needs it (production)')
    .option('-y, --yes', 'same as --confirm')
    .option('--dry-run', 'print the plan and change nothing')
    .option('--skip-backup', 'no backup first (refused for production)')
    .option('--mode <mode>', 'replace or migrate (default: replace where allow_destructive, else migrate)')
    .option('-j, --jobs <n>', 'pg_restore jobs for the new database', '2')
    .option('--lock-timeout <seconds>', 'give up when another operation holds the lock this long')
    .action(
      action(async (ctx, args, options) => {
        const remoteName = (options.remote as string | undefined) ?? args[0];
        if (!remoteName) throw new DbfastError('USAGE', 'which remote? pass --remote NAME (or dbfast deploy NAME)', { hint: 'See `dbfast remote list`.' });
        if (args[0] && options.remote && args[0] !== options.remote) {
          throw new DbfastError('USAGE', `two remotes given: "${args[0]}" and --remote "${String(options.remote)}"`, { hint: 'Name the remote once.' });
        }
        const mode = options.mode as string | undefined;
        if (mode !== undefined && mode !== 'replace' && mode !== 'migrate') {
          throw new DbfastError('USAGE', `--mode must be replace or migrate, not "${mode}"`, { hint: 'replace: restore the template over the database; migrate: apply pending migrations.' });
        }
        const config = await ctx.config();
        const dryRun = options.dryRun === true;
        const isConfirmed = dryRun ? false : await confirmedFor(ctx, remoteName, 'Deploy to', options);
        const { deploy } = await import('../../deploy/deploy.js');
        const report = await deploy({
          config,
          remote: remoteName,
          environment: options.env as string | undefined,
          confirmed: isConfirmed,
          dryRun,
          skipBackup: options.skipBackup === true,
          mode: mode as 'replace' | 'migrate' | undefined,
          jobs: Number(options.jobs ?? 2),
          lockTimeoutMs: lockTimeout(options.lockTimeout),
          logger: ctx.out.logger(),
        });
        const { plan, ...rest } = report;
        ctx.out.result(plan ? { ...rest, plan } : rest, () => renderDeploy(report));
      }),
    );
  program
    .command('rollback')
    .description('swap back to the previous database, or restore a backup')
    .requiredOption('-r, --remote <name>', 'remote')
    .option('--to <target>', 'previous (default) or a backup id', 'previous')
    .option('--confirm', 'confirm')
    .option('-y, --yes', 'same as --confirm')
    .option('--lock-timeout <seconds>', 'give up when another operation holds the lock this long')
    .action(
      action(async (ctx, _args, options) => {
        const remoteName = options.remote as string;
        // A rollback should take about a second: skip re-validating an unchanged dbfast.toml, and no fetch probe from pg.
        const [config, { rollback }] = await Promise.all([ctx.config(), importSkippingPgProbe(() => import('../../deploy/rollback.js'))]);
        const isConfirmed = await confirmedFor(ctx, remoteName, 'Roll back', options);
        const report = await rollback({ config, remote: remoteName, to: options.to as string, confirmed: isConfirmed, lockTimeoutMs: lockTimeout(options.lockTimeout), logger: ctx.out.logger() });
        ctx.out.result(report, () => `rolled back remote "${report.remote}" (database "${report.database}") to ${report.to} in ${report.durationMs} ms`);
      }),
    );
  program
    .command('history')
    .description('deploys recorded on a remote')
    .requiredOption('-r, --remote <name>', 'remote')
    .option('--limit <n>', 'how many', '20')
    .option('--local', 'read the local history (.dbfast/history) instead of the remote')
    .action(
      action(async (ctx, _args, options) => {
        const config = await ctx.config();
        const { deployHistory } = await import('../../history/query.js');
        const result = await deployHistory({ config, remote: options.remote as string, limit: Number(options.limit), local: options.local === true, logger: ctx.out.logger() });
        ctx.out.result(result, () => {
          if (result.deploys.length === 0) return `no deploys recorded for remote "${result.remote}" (${result.source})`;
          const rows = result.deploys.map((d) =>
            [d.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), d.kind, d.result, d.environment, d.durationMs === null ? '' : `${d.durationMs} ms`, d.backupId ?? '', `${d.osUser}@${d.host}`, triggerText(d.trigger), d.error ? d.error.split('\n').map((line) => line.trim()).filter(Boolean).slice(0, 2).join(' ') : ''].join('  '),
          );
          return [`history of remote "${result.remote}" (${result.source}), newest first:`, ...rows].join('\n');
        });
      }),
    );
  program
    .command('stats')
    .description('deploy statistics: success rate, durations')
    .option('-r, --remote <name>', 'remote')
    .option('--days <n>', 'window in days', '30')
    .action(
      action(async (ctx, _args, options) => {
        const [config, { deployStats }, render] = await Promise.all([ctx.config(), import('../../history/stats.js'), import('./remote-status-render.js')]);
        const result = await deployStats({ config, remote: options.remote as string | undefined, days: Number(options.days), logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderStats(result));
      }),
    );
}
