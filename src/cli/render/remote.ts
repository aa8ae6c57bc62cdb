import type { DeployedSummary, RemoteSetupReport, RemoteStatusReport, RemoteSummary, RemoteTestReport, StatsResult } from '../../index.js';
import { bytes, duration, firstLine, plural, table, when, type Style } from './format.js';

/** Human renderings of `remote list|test`, `status --remote` and `stats`. */

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

export function renderRemoteList(style: Style, configPath: string, remotes: RemoteSummary[]): string {
  if (remotes.length === 0) return `no remotes in ${configPath}; add one with dbfast remote add --name N --url URL --env ENV`;
  return table(
    style,
    ['NAME', 'ENVIRONMENT', 'URL', 'PASSWORD FROM', 'BACKUP', 'CONFIRM', 'DESTRUCTIVE'],
    remotes.map((r) => [r.name, r.environment, r.url, r.passwordEnv ? `$${r.passwordEnv}` : 'URL/PGPASSWORD/~/.pgpass', yesNo(r.backupBeforeDeploy), yesNo(r.requireConfirmation), yesNo(r.allowDestructive)]),
  );
}

const LABEL = { error: 'FAIL', warning: 'WARN', info: 'ok' } as const;

export function renderRemoteTest(style: Style, report: RemoteTestReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = [`remote ${report.remote}: ${report.url}`];
  for (const check of report.checks) {
    const label = check.ok ? 'ok' : LABEL[check.severity];
    lines.push(`  ${style.status(label)}${' '.repeat(4 - label.length)}  ${check.name.padEnd(width)}  ${!check.ok && check.code ? `${check.code}: ` : ''}${check.detail}`);
    if (!check.ok && check.hint) lines.push(`        ${''.padEnd(width)}  hint: ${check.hint}`);
  }
  const errors = report.checks.filter((check) => !check.ok && check.severity === 'error').length;
  const warnings = report.checks.filter((check) => !check.ok && check.severity === 'warning').length;
  lines.push(
    errors > 0
      ? style.bad(`${plural(errors, 'problem')} found: ${report.remote} is not ready for backups and deploys`)
      : `${report.remote} is ${style.good('ready')}${warnings > 0 ? ` (${plural(warnings, 'warning')})` : ''}`,
  );
  return lines.join('\n');
}

/** `remote setup NAME [--dry-run]`: the files, the roles they make, and what happened. */
export function renderRemoteSetup(style: Style, report: RemoteSetupReport): string {
  if (report.files.length === 0) return `no [repository] cluster_setup files in dbfast.toml: nothing to run on ${report.remote}`;
  const lines = [`remote ${report.remote}: ${report.url}`];
  const missing = new Set(report.missingRoles);
  lines.push(`  cluster setup files: ${report.files.join(', ')}`);
  if (report.roles.length > 0) lines.push(`  roles they create: ${report.roles.map((role) => (missing.has(role) ? `${role} (missing)` : `${role} (exists)`)).join(', ')}`);
  if (report.dryRun) {
    lines.push(report.upToDate ? 'dry run: this setup already ran on the remote and its roles exist; it would not run again' : `dry run: would run ${plural(report.files.length, 'file')}; nothing was changed`);
  } else if (report.ran) {
    lines.push(style.good(`ran ${plural(report.files.length, 'file')} on ${report.remote}`));
  } else {
    lines.push(`already set up: this setup ran on ${report.remote} before and its roles exist (nothing ran)`);
  }
  return lines.join('\n');
}

/** What made the live database: a deploy of a template, a restore, a rollback. */
function whatMadeIt(d: DeployedSummary): string {
  if (d.kind === 'restore') return `restore of backup ${d.backupId ?? '?'}`;
  if (d.kind === 'rollback') return d.backupId ? `rollback to backup ${d.backupId}` : 'rollback to the previous database';
  return `environment ${d.environment}, template ${d.templateHash?.slice(0, 12) ?? '?'}`;
}

export function renderRemoteStatus(style: Style, report: RemoteStatusReport): string {
  const lines = [`remote ${report.remote}: ${report.url} (environment ${report.environment})`];
  const c = report.connection;
  const notYet = c.databaseExists === false ? `; database "${report.database}" does not exist${report.deployed ? '' : ' yet'}` : '';
  lines.push(`  connection   ${c.ok ? `${style.good('ok')}, PostgreSQL ${c.serverVersion ?? '?'}, ${c.latencyMs ?? '?'} ms${notYet}` : `${style.bad('FAILED')}: ${c.detail}`}`);
  const d = report.deployed;
  lines.push(d ? `  deployed     ${whatMadeIt(d)}, ${when(d.finishedAt ?? d.startedAt)} by ${d.osUser}@${d.host} (${d.deployId})` : '  deployed     nothing recorded');
  if (report.lastEvent && report.lastEvent.deployId !== d?.deployId) {
    const e = report.lastEvent;
    lines.push(`  last event   ${e.kind} ${style.status(e.result)} ${when(e.at)} (${e.deployId})${e.error ? `: ${firstLine(e.error)}` : ''}`);
  }
  lines.push(`  history      ${report.historySource === 'remote' ? 'dbfast.deploy_history on the remote' : 'local (.dbfast/history)'}`);
  const m = report.migrations;
  lines.push(m ? `  migrations   ${m.applied} applied, ${m.pending} pending, ${m.drifted} changed since applied` : `  migrations   ${report.migrationsNote ?? 'not available'}`);
  const b = report.lastBackup;
  const verified = b?.verified === null ? '' : b?.verified ? ', verified' : `, verification ${style.bad('FAILED')}`;
  lines.push(b ? `  last backup  ${b.id} (${bytes(b.sizeBytes)}, ${when(b.createdAt)}${verified})` : '  last backup  none');
  const h = report.health;
  if (h) {
    const answer = h.status === null ? `no answer (${h.error ?? ''})` : `answered ${h.status}`;
    lines.push(`  health       ${h.ok ? style.good('ok') : style.bad('FAILED')}: ${h.url} ${answer}${h.ok ? '' : `, expected ${h.expectedStatus}`}`);
  }
  lines.push(report.ok ? `${report.remote} is ${style.good('up')}` : style.bad(`${report.remote} has problems: ${report.problems.join('; ')}`));
  return lines.join('\n');
}

export function renderStats(result: StatsResult): string {
  if (result.remotes.length === 0) return 'no remotes configured';
  const lines = [`deploys in the last ${result.days} days (since ${when(result.since)}):`];
  for (const r of result.remotes) {
    const rate = r.successRate === null ? '-' : `${(r.successRate * 100).toFixed(1)}%`;
    lines.push(`${r.remote} (${r.source === 'remote' ? 'remote history' : 'local history'}): ${r.deploys} deploys, ${r.succeeded} ok, ${r.failed} failed, ${r.rolledBack} rolled back, ${r.refused} refused; success ${rate}`);
    lines.push(`  duration of successful deploys: mean ${duration(r.meanDurationMs)}, p95 ${duration(r.p95DurationMs)}`);
    lines.push(`  last success: ${r.lastSuccess ? `${when(r.lastSuccess.at)} (${r.lastSuccess.deployId})` : 'none'}`);
    const failure = r.lastFailure;
    lines.push(`  last failure: ${failure ? `${when(failure.at)} ${failure.result} (${failure.deployId})${failure.error ? `: ${firstLine(failure.error)}` : ''}` : 'none'}`);
  }
  return lines.join('\n');
}
