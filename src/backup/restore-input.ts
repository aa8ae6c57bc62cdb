import { mkdir, statfs } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { DbfastError } from '../errors.js';
import type { BackupScope } from './scope.js';
import type { BackupInfo } from './types.js';

/** Room left beside a temporary copy, so a restore never fills the disk to the last byte. */
const TEMP_MARGIN = 256 * 1024 * 1024;

function formatBytesPlain(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export interface RestoreInput {
  /** A path pg_restore can seek in, or the archive streamed from the store. */
  input: string | Readable;
  /** Where restoreArchive puts its temporary decompressed copy (only with jobs > 1). */
  tempDir?: string;
}

/**
 * What a restore reads. With one job, the archive streams from the store straight into
 * pg_restore: no copy anywhere. pg_restore's parallel jobs need a seekable, uncompressed file:
 * then (unless the backup is already an uncompressed local file) it is decompressed into
 * `.dbfast/tmp` first, which is said in the log and refused up front when that disk lacks room
 * for the backup's uncompressed size.
 */
export async function restoreInput(scope: BackupScope, info: BackupInfo, jobs: number, signal?: AbortSignal): Promise<RestoreInput> {
  const local = scope.storage.kind === 'directory';
  if (jobs <= 1 || (local && info.compression === 'none')) {
    return { input: local ? scope.storage.describe(info.file) : await scope.storage.get(info.file, { signal }) };
  }
  await mkdir(scope.tempDir, { recursive: true, mode: 0o700 });
  const fs = await statfs(scope.tempDir);
  const free = fs.bavail * fs.bsize;
  if (free < info.rawBytes + TEMP_MARGIN) {
    throw new DbfastError(
      'RESTORE_TEMP_SPACE',
      `pg_restore --jobs ${jobs} needs backup ${info.id} as an uncompressed file (${formatBytesPlain(info.rawBytes)}), but ${scope.tempDir} has ${formatBytesPlain(free)} free`,
      { hint: 'Restore with --jobs 1 (it streams, no temporary copy), or free disk space there.' },
    );
  }
  scope.logger.info(
    `pg_restore --jobs ${jobs} needs a seekable file: backup ${info.id} is decompressed to ${scope.tempDir} first (${formatBytesPlain(info.rawBytes)}, deleted afterwards)`,
  );
  return { input: local ? scope.storage.describe(info.file) : await scope.storage.get(info.file, { signal }), tempDir: scope.tempDir };
}
