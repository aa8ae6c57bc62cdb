import type { Command } from 'commander';
import { DbfastError } from '../../errors.js';
import type { DeployReport, HistoryResult } from '../../index.js';
import { action } from '../action.js';
import { confirmedFor } from '../confirm.js';
import { leanConfig } from '../lean-config.js';
import { importSkippingPgProbe } from '../pg-probe.js';

export function lockTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new DbfastError('USAGE', `--lock-timeout takes seconds, not "${String(value)}"`, { hint: 'e.g. --lock-timeout 60' });
  }
  return seconds * 1000;
}

/** Collects a repeatable option's values (`--group a --group b`). */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `-j 3`: a whole number of at least 1, or USAGE before anything runs. */
function jobsOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const jobs = Number(value);
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new DbfastError('USAGE', `--jobs takes a whole number of at least 1, not "${String(value)}"`, { hint: 'e.g. --jobs 2 (pg_restore jobs for the new database)' });
  }
  return jobs;
}

function renderDeploy(report: DeployReport): string {
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
      ...(plan.groups.length > 0 ? ['groups:', ...plan.groups.map((g) => `  ${g.selected ? 'run ' : 'skip'} ${g.name} (order ${g.order})${g.selected ? `: ${g.files.length} SQL file${g.files.length === 1 ? '' : 's'}, ${g.commands.length} command${g.commands.length === 1 ? '' : 's'}` : `: ${g.reason ?? ''}`}`)] : []),
      ...report.notes.map((note) => `note: ${note}`),
      'steps:',
      ...plan.steps.map((step, i) => `  ${i + 1}. ${step}`),
      'nothing was changed.',
    ];
    return lines.join('\n');
  }
  const phases = report.phases.map((p) => `${p.name} ${p.durationMs} ms`).join(', ');
  const created = report.created ? [`created database "${report.database}" from the template; recorded as applied: ${report.created.migrationsRecorded.join(', ') || 'none'}`] : [];
  const migrations = report.migrations ? [`migrations applied: ${report.migrations.length === 0 ? 'none (nothing pending)' : report.migrations.join(', ')}`] : [];
  return [
    `deployed environment "${report.environment}" to remote "${report.remote}" (database "${report.database}", ${report.mode})`,
    ...created,
    ...migrations,
    `backup: ${report.backupId ?? 'none'}; previous database: ${report.previous ?? 'none'}`,
    ...report.groups.map((g) => `group ${g.name}: ${g.status === 'succeeded' ? `ok in ${g.durationMs ?? 0} ms` : g.status.replace('_', ' ')}${g.status !== 'succeeded' && g.reason ? ` (${g.reason.split('\n')[0] ?? ''})` : ''}`),
    ...(report.health ? [`health: ${report.health.url} answered ${report.health.status}`] : []),
    ...report.warnings.map((warning) => `warning: ${warning}`),
    ...report.notes.map((note) => `note: ${note}`),
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
    .option('-j, --jobs <n>', 'pg_restore jobs for the new database (default 2)')
    .option('--lock-timeout <seconds>', 'give up when another operation holds the lock this long')
    .option('--group <name>', 'run only this deploy group (repeatable)', collect, [])
    .option('--skip-group <name>', 'do not run this deploy group (repeatable)', collect, [])
    .option('--continue-on-failure', 'a failing deploy group warns instead of rolling the deploy back')
    .option('--no-health-check', 'do not run health checks (the remote\'s and the groups\')')
    .option('--skip-validation', 'do not check required variables (required_env); noted in the history')
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
        const jobs = jobsOption(options.jobs);
        const config = await ctx.config();
        const dryRun = options.dryRun === true;
        const isConfirmed = dryRun ? false : await confirmedFor(ctx, remoteName, 'Deploy to', options);
        const { deploy } = await import('../../index.js');
        const report = await deploy({
          config,
          remote: remoteName,
          environment: options.env as string | undefined,
          confirmed: isConfirmed,
          dryRun,
          skipBackup: options.skipBackup === true,
          mode: mode as 'replace' | 'migrate' | undefined,
          jobs,
          lockTimeoutMs: lockTimeout(options.lockTimeout),
          groups: options.group as string[],
          skipGroups: options.skipGroup as string[],
          continueOnFailure: options.continueOnFailure === true,
          skipHealthChecks: options.healthCheck === false,
          skipValidation: options.skipValidation === true,
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
    .option('--to <target>', 'previous (default), a backup id, or latest', 'previous')
    .option('--confirm', 'confirm')
    .option('-y, --yes', 'same as --confirm')
    .option('--lock-timeout <seconds>', 'give up when another operation holds the lock this long')
    .action(
      action(async (ctx, _args, options) => {
        const remoteName = options.remote as string;
        // A rollback should take about a second: skip re-validating an unchanged dbfast.toml, and no fetch probe from pg.
        const [config, { rollback }] = await Promise.all([leanConfig(ctx), importSkippingPgProbe(() => import('../../index.js'))]);
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
        const { history } = await import('../../index.js');
        const result: HistoryResult = await history({ config, remote: options.remote as string, limit: Number(options.limit), local: options.local === true, logger: ctx.out.logger() });
        ctx.out.result(result, () => {
          if (result.deploys.length === 0) return `no deploys recorded for remote "${result.remote}" (${result.source})`;
          const rows = result.deploys.map((d) =>
            [d.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), d.kind, d.result, d.environment, d.durationMs === null ? '' : `${d.durationMs} ms`, d.backupId ?? '', `${d.osUser}@${d.host}`, triggerText(d.trigger), d.error ? d.error.split('\n').map((line) => line.trim()).filter(Boolean).slice(0, 2).join(' ') : '', d.notes.join('; ')].join('  ').trimEnd(),
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
        const [config, { stats }, render] = await Promise.all([ctx.config(), import('../../index.js'), import('./remote-status-render.js')]);
        const result = await stats({ config, remote: options.remote as string | undefined, days: Number(options.days), logger: ctx.out.logger() });
        ctx.out.result(result, () => render.renderStats(result));
      }),
    );
}
