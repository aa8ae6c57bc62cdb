import type { AllHistoryResult, DeployRecord, DeployReport, DeployTrigger, HistoryResult, RollbackReport } from '../../index.js';
import { duration, firstLine, plural, table, when, type Style } from './format.js';

/** Human renderings of `deploy` (and its dry run), `rollback` and `history`. */

type Plan = NonNullable<DeployReport['plan']>;

/** The dry run's `groups:` block: each configured group in run order, run or skip and why. */
function planGroups(style: Style, plan: Plan): string[] {
  if (plan.groups.length === 0) return [];
  return [
    'groups:',
    ...plan.groups.map((g) =>
      g.selected
        ? `  ${style.status('run')}  ${g.name} (order ${g.order}): ${plural(g.files.length, 'SQL file')}, ${plural(g.commands.length, 'command')}`
        : `  ${style.status('skip')} ${g.name} (order ${g.order}): ${g.reason ?? ''}`,
    ),
  ];
}

/** One line per group of a deploy: how it went. */
function groupLine(style: Style, g: DeployReport['groups'][number]): string {
  if (g.status === 'succeeded') return `group ${g.name}: ${style.status('ok')} in ${duration(g.durationMs)}`;
  const status = g.status.replace('_', ' ');
  return `group ${g.name}: ${style.status(status)}${g.reason ? ` (${firstLine(g.reason)})` : ''}`;
}

/** The dry run's last line: the verdict its exit code gives (3 when a check failed, as `remote test`). */
function planVerdict(style: Style, plan: Plan): string {
  const failed = plan.checks.filter((c) => !c.ok && c.severity === 'error').map((c) => c.name);
  if (failed.length > 0) return style.bad(`${plural(failed.length, 'check')} failed (${failed.join(', ')}): the deploy would be refused`);
  const warnings = plan.checks.filter((c) => !c.ok && c.severity === 'warning').length;
  return warnings > 0 ? `every needed check passed (${plural(warnings, 'warning')}): the deploy would proceed` : 'every check passed: the deploy would proceed';
}

function renderPlan(style: Style, plan: Plan, notes: string[]): string {
  const check = (c: (typeof plan.checks)[number]): string => {
    const label = c.ok ? 'ok  ' : c.severity === 'error' ? 'FAIL' : 'warn';
    return `  ${style.status(label.trim())}${label.slice(label.trim().length)} ${c.name}: ${!c.ok && c.code ? `${c.code}: ` : ''}${c.detail}${!c.ok && c.hint ? `\n       fix: ${c.hint}` : ''}`;
  };
  return [
    `dry run: deploy environment "${plan.environment}" to remote "${plan.remote}" (${plan.url})`,
    ...(plan.migrations
      ? [`migrations to apply:${plan.migrations.length === 0 ? ' none' : ''}`, ...plan.migrations.map((id) => `  ${id}`)]
      : [`template: ${plan.template.name} (${plan.template.state}, ${plan.template.files} files)`, ...plan.template.changed.slice(0, 20).map((line) => `  ${line}`)]),
    `replaces: ${plan.replaces}`,
    `backup: ${plan.backup}`,
    `mode: ${plan.mode ?? 'none (see checks)'}`,
    'checks:',
    ...plan.checks.map(check),
    ...planGroups(style, plan),
    ...notes.map((note) => `note: ${note}`),
    'steps:',
    ...plan.steps.map((step, i) => `  ${i + 1}. ${step}`),
    'nothing was changed.',
    planVerdict(style, plan),
  ].join('\n');
}

export function renderDeploy(style: Style, report: DeployReport): string {
  if (report.plan) return renderPlan(style, report.plan, report.notes);
  const phases = report.phases.map((p) => `${p.name} ${p.durationMs} ms`).join(', ');
  const created = report.created ? [`created database "${report.database}" from the template; recorded as applied: ${report.created.migrationsRecorded.join(', ') || 'none'}`] : [];
  const migrations = report.migrations ? [`migrations applied: ${report.migrations.length === 0 ? 'none (nothing pending)' : report.migrations.join(', ')}`] : [];
  return [
    `deployed environment "${report.environment}" to remote "${report.remote}" (database "${report.database}", ${report.mode})`,
    ...created,
    ...migrations,
    `backup: ${report.backupId ?? 'none'}; previous database: ${report.previous ?? 'none'}`,
    ...report.groups.map((g) => groupLine(style, g)),
    ...(report.health ? [`health: ${report.health.url} answered ${report.health.status}`] : []),
    ...report.warnings.map((warning) => `${style.warn('warning:')} ${warning}`),
    ...report.notes.map((note) => `note: ${note}`),
    `${report.durationMs} ms: ${phases}`,
  ].join('\n');
}

export function renderRollback(report: RollbackReport): string {
  return `rolled back remote "${report.remote}" (database "${report.database}") to ${report.to} in ${duration(report.durationMs)}`;
}

/** The history's trigger column: `manual`, or the webhook delivery that started the run. */
export function triggerText(trigger: DeployTrigger | null): string {
  if (!trigger) return 'manual';
  return `${trigger.provider} ${trigger.commit.slice(0, 12)}${trigger.sender ? ` by ${trigger.sender}` : ''} (delivery ${trigger.deliveryId})`;
}

/** The columns of a history table; `withRemote` adds the REMOTE column (history of every remote). */
function historyTable(style: Style, deploys: DeployRecord[], withRemote: boolean): string {
  const rows = deploys.map((d) => [
    ...(withRemote ? [d.remote] : []),
    when(d.startedAt),
    d.kind,
    d.result,
    d.environment,
    d.durationMs === null ? '' : duration(d.durationMs),
    d.backupId ?? '',
    `${d.osUser}@${d.host}`,
    triggerText(d.trigger),
    d.error ? d.error.split('\n').map((line) => line.trim()).filter(Boolean).slice(0, 2).join(' ') : '',
    d.notes.join('; '),
  ]);
  const header = [...(withRemote ? ['REMOTE'] : []), 'STARTED', 'KIND', 'RESULT', 'ENVIRONMENT', 'TOOK', 'BACKUP', 'BY', 'TRIGGER', 'ERROR', 'NOTES'];
  const resultColumn = withRemote ? 3 : 2;
  return table(style, header, rows, { cell: (text, column) => (column === resultColumn ? style.status(text) : text) });
}

export function renderHistory(style: Style, result: HistoryResult): string {
  if (result.deploys.length === 0) return `no deploys recorded for remote "${result.remote}" (${result.source})`;
  return [`history of remote "${result.remote}" (${result.source}), newest first:`, historyTable(style, result.deploys, false)].join('\n');
}

/** `dbfast history` without `--remote`: every remote's runs in one table, with a REMOTE column. */
export function renderAllHistory(style: Style, result: AllHistoryResult): string {
  const sources = result.remotes.map((r) => `${r.remote} (${r.source})`).join(', ');
  if (result.remotes.length === 0) return 'no remotes in dbfast.toml; add one with dbfast remote add --name N --url URL --env ENV';
  if (result.deploys.length === 0) return `no deploys recorded for any remote: ${sources}`;
  return [`history of every remote, newest first: ${sources}`, historyTable(style, result.deploys, true)].join('\n');
}
