import type { RemoteStatusReport } from '../../deploy/remote-status.js';
import type { StatsResult } from '../../history/stats.js';
import { formatBytes } from '../output.js';

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function ms(value: number | null): string {
  if (value === null) return '-';
  return value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`;
}

export function renderRemoteStatus(report: RemoteStatusReport): string {
  const lines = [`remote ${report.remote}: ${report.url} (environment ${report.environment})`];
  const c = report.connection;
  lines.push(`  connection   ${c.ok ? `ok, PostgreSQL ${c.serverVersion ?? '?'}, ${c.latencyMs ?? '?'} ms${c.databaseExists === false ? `; database "${report.database}" does not exist yet` : ''}` : `FAILED: ${c.detail}`}`);
  const d = report.deployed;
  lines.push(
    d
      ? `  deployed     environment ${d.environment}, template ${d.templateHash?.slice(0, 12) ?? '?'}, ${when(d.finishedAt ?? d.startedAt)} by ${d.osUser}@${d.host} (${d.deployId})`
      : '  deployed     nothing recorded',
  );
  if (report.lastEvent && report.lastEvent.deployId !== d?.deployId) {
    const e = report.lastEvent;
    lines.push(`  last event   ${e.kind} ${e.result} ${when(e.at)} (${e.deployId})${e.error ? `: ${e.error.split('\n')[0] ?? ''}` : ''}`);
  }
  lines.push(`  history      ${report.historySource === 'remote' ? 'dbfast.deploy_history on the remote' : 'local (.dbfast/history)'}`);
  const m = report.migrations;
  lines.push(m ? `  migrations   ${m.applied} applied, ${m.pending} pending, ${m.drifted} changed since applied` : `  migrations   ${report.migrationsNote ?? 'not available'}`);
  const b = report.lastBackup;
  lines.push(b ? `  last backup  ${b.id} (${formatBytes(b.sizeBytes)}, ${when(b.createdAt)}${b.verified === null ? '' : b.verified ? ', verified' : ', verification FAILED'})` : '  last backup  none');
  const h = report.health;
  if (h) lines.push(`  health       ${h.ok ? 'ok' : 'FAILED'}: ${h.url} ${h.status === null ? `no answer (${h.error ?? ''})` : `answered ${h.status}`}${h.ok ? '' : `, expected ${h.expectedStatus}`}`);
  lines.push(report.ok ? `${report.remote} is up` : `${report.remote} has problems: ${report.problems.join('; ')}`);
  return lines.join('\n');
}

export function renderStats(result: StatsResult): string {
  if (result.remotes.length === 0) return 'no remotes configured';
  const lines = [`deploys in the last ${result.days} days (since ${when(result.since)}):`];
  for (const r of result.remotes) {
    const rate = r.successRate === null ? '-' : `${(r.successRate * 100).toFixed(1)}%`;
    lines.push(`${r.remote} (${r.source === 'remote' ? 'remote history' : 'local history'}): ${r.deploys} deploys, ${r.succeeded} ok, ${r.failed} failed, ${r.rolledBack} rolled back, ${r.refused} refused; success ${rate}`);
    lines.push(`  duration of successful deploys: mean ${ms(r.meanDurationMs)}, p95 ${ms(r.p95DurationMs)}`);
    lines.push(`  last success: ${r.lastSuccess ? `${when(r.lastSuccess.at)} (${r.lastSuccess.deployId})` : 'none'}`);
    lines.push(`  last failure: ${r.lastFailure ? `${when(r.lastFailure.at)} ${r.lastFailure.result} (${r.lastFailure.deployId})${r.lastFailure.error ? `: ${r.lastFailure.error.split('\n')[0] ?? ''}` : ''}` : 'none'}`);
  }
  return lines.join('\n');
}
