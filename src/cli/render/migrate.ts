import type { MigrateApplyReport, MigrateStatusReport, MigrateVerifyReport, MigrationRow } from '../../index.js';
import { firstLine, when, type Style } from './format.js';

/** Human renderings of `migrate status|apply|history|verify` and `mark-applied`. */

export function renderMigrateStatus(style: Style, report: MigrateStatusReport): string {
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
    lines.push(`  ${style.status(m.state.toUpperCase())}${' '.repeat(Math.max(0, 8 - m.state.length))} ${m.id}${note ? `  (${note})` : ''}`);
  }
  lines.push(`${report.applied.length} applied, ${report.pending.length} pending, ${report.drifted.length} drifted, ${report.missing.length} missing, ${report.failed.length} failed`);
  return lines.join('\n');
}

export function renderMigrateApply(report: MigrateApplyReport): string {
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

export function renderMigrateHistory(style: Style, remote: string, rows: MigrationRow[]): string {
  if (rows.length === 0) return `no migrations recorded on remote "${remote}"`;
  return [
    `migrations recorded on remote "${remote}", oldest first:`,
    ...rows.map((r) => [when(r.appliedAt), `${style.status(r.status)}${' '.repeat(Math.max(0, 11 - r.status.length))}`, r.id, r.executionMs === null ? '' : `${r.executionMs} ms`, r.appliedBy, firstLine(r.error)].filter(Boolean).join('  ')),
  ].join('\n');
}

export function renderMigrateVerify(style: Style, report: MigrateVerifyReport): string {
  const head = `schema of remote "${report.remote}" (database "${report.database}") against the template of environment "${report.environment}"`;
  const pending = report.pendingMigrations.length > 0 ? [`note: ${report.pendingMigrations.length} migration(s) pending on the remote: ${report.pendingMigrations.join(', ')}`] : [];
  if (report.matches) return [`${head}: ${style.good('same')}`, ...pending].join('\n');
  return [
    `${head}: ${style.bad(`${report.missingInRemote.length + report.unexpectedInRemote.length} difference(s)`)}`,
    ...report.missingInRemote.map((line) => `  missing in remote:    ${line}`),
    ...report.unexpectedInRemote.map((line) => `  unexpected in remote: ${line}`),
    ...pending,
  ].join('\n');
}

export function renderMarkApplied(report: { remote: string; marked: Array<{ id: string; previous: string | null }> }): string {
  return [`marked as applied (baseline) on remote "${report.remote}":`, ...report.marked.map((m) => `  ${m.id}${m.previous ? `  (was ${m.previous})` : ''}`)].join('\n');
}
