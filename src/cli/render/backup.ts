import type { BackupSummary } from '../../backup/types.js';
import type { CreateBackupResult } from '../../backup/create.js';
import type { VerifyResult } from '../../backup/verify.js';
import type { PruneResult } from '../../backup/prune.js';
import type { RestoreBackupResult } from '../../backup/restore.js';
import { bytes, table, when, type Style } from './format.js';

/** Human renderings of `backup create|list|verify|restore|prune`. */

export function renderBackupCreated(summary: BackupSummary, result: CreateBackupResult): string {
  return [
    `backup ${summary.id} of "${summary.database}" (remote ${summary.remote})`,
    `  file    ${summary.file}`,
    `  size    ${bytes(summary.sizeBytes)} (${summary.compression}; ${bytes(result.backup.rawBytes)} uncompressed)`,
    `  sha256  ${summary.sha256}`,
    `  tables  ${result.backup.tables.length}, ${result.backup.tables.reduce((n, t) => n + t.rows, 0)} rows`,
  ].join('\n');
}

/** A backup as `backup list` shows it. */
export interface ListedBackup extends BackupSummary {
  verified: boolean;
  verifiedAt: string | null;
  verifiedByRestore: { at: string; ok: boolean } | null;
}

export function renderBackupList(style: Style, remote: string, folder: string, backups: ListedBackup[]): string {
  if (backups.length === 0) return `no backups for remote "${remote}" in ${folder}`;
  const verifiedText = (b: ListedBackup): string => (b.verifiedByRestore?.ok ? 'restore-tested' : b.verified ? 'yes' : b.verifiedAt || b.verifiedByRestore ? 'FAILED' : '-');
  return table(
    style,
    ['ID', 'CREATED', 'SIZE', 'COMPRESSION', 'DATABASE', 'VERIFIED'],
    backups.map((b) => [b.id, when(b.createdAt), bytes(b.sizeBytes), b.compression, b.database, verifiedText(b)]),
    { cell: (text, column) => (column === 5 ? style.status(text) : text) },
  );
}

export function renderVerify(style: Style, results: VerifyResult[]): string {
  return results
    .map((r) => {
      const how = r.restoreTest ? `checksum, readability and a restore test (${r.restoreTest.server} server)` : 'checksum and readability';
      return r.ok ? `${style.good('ok')}      ${r.id}: ${how}` : `${style.bad('FAILED')}  ${r.id}:\n${r.problems.map((p) => `  - ${p}`).join('\n')}`;
    })
    .join('\n');
}

export function renderRestore(result: RestoreBackupResult): string {
  const how = result.mode === 'swap' ? 'side database swapped in' : 'in place, one transaction';
  return [
    `restored backup ${result.id} into "${result.database}" (${how}; ${result.tables} tables checked)`,
    result.previous ? `the replaced database is kept as "${result.previous}"` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function renderPrune(result: PruneResult): string {
  const lines: string[] = [];
  const verb = result.dryRun ? 'would delete' : 'deleted';
  for (const r of result.plan.remove) lines.push(`${verb}  ${r.backup.id}  (${r.reason})`);
  for (const r of result.plan.protected) lines.push(`kept          ${r.backup.id}  (${r.reason})`);
  if (result.plan.remove.length === 0) lines.push('nothing to delete');
  else if (result.dryRun) lines.push('dry run: nothing was deleted; add --confirm to delete');
  return lines.join('\n');
}

