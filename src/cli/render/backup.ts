import type { BackupCheckResult, BackupSummary, CreateBackupResult, ListedBackup, PruneResult, RestoreBackupResult, VerifyResult } from '../../index.js';
import { bytes, table, when, type Style } from './format.js';

/** Human renderings of `backup create|list|verify|restore|prune`. */

export function renderBackupCreated(summary: BackupSummary, result: CreateBackupResult): string {
  return [
    `backup ${summary.id} of "${summary.database}" (remote ${summary.remote})`,
    `  file    ${summary.file}`,
    `  size    ${bytes(summary.sizeBytes)} (${summary.compression}; ${bytes(result.backup.rawBytes)} uncompressed)`,
    `  sha256  ${summary.sha256}`,
    `  tables  ${result.backup.tables.length}, ${result.backup.tables.reduce((n, t) => n + t.rows, 0)} rows`,
    // Retention's deletions are told once, by the library's info line (deploy and migrate backups say it the same way).
    `  checked read back from the store: sha256, size and every archive entry`,
  ].join('\n');
}

export function renderBackupList(style: Style, remote: string, location: string, backups: ListedBackup[]): string {
  if (backups.length === 0) return `no backups for remote "${remote}" in ${location}`;
  const verifiedText = (b: ListedBackup): string =>
    b.health === 'damaged' ? 'DAMAGED' : b.health === 'unverified' ? '-' : b.verifiedByRestore?.ok && b.verifiedByRestore.at >= (b.verifiedAt ?? '') ? 'restore-tested' : 'yes';
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
    `restored backup ${result.id}${result.fromRemote === result.remote ? '' : ` of remote "${result.fromRemote}"`} into "${result.database}" (${how}; ${result.tables} tables checked)`,
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

export function renderBackupCheck(style: Style, result: BackupCheckResult, maxAge: string): string {
  const newest = result.newestVerified;
  const age = newest ? `${(newest.ageMs / 3_600_000).toFixed(1)} h old` : '';
  return result.ok
    ? `${style.good('ok')}      remote "${result.remote}": newest verified backup ${newest?.id} is ${age} (max ${maxAge})`
    : `${style.bad('STALE')}   remote "${result.remote}": ${result.problem}${newest ? ` (${age})` : ''}; ${result.backups} backup(s) in ${result.location}`;
}

