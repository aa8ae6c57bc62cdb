import path from 'node:path';
import type { BackupPlace } from '../../config/types.js';
import { DbfastError } from '../../errors.js';
import { DirectoryStorage } from './local.js';
import { parseS3Url, S3Storage } from './s3.js';
import type { BackupStorage } from './types.js';

/**
 * The store of one remote's backups: `<dir>/<remote>` as a folder, or the key prefix
 * `<prefix>/<remote>/` in the bucket when `dir` is `s3://bucket/prefix`.
 */
export function openBackupStorage(place: BackupPlace, remote: string, env: NodeJS.ProcessEnv = process.env): BackupStorage {
  // The remote name becomes a folder or a key segment, so it must be one plain path segment.
  if (!remote || remote === '.' || remote === '..' || /[/\\\0]/.test(remote)) {
    throw new DbfastError('REMOTE_NAME_INVALID', `remote name "${remote}" cannot be used as a folder name for backups`, {
      hint: 'Rename the remote to letters, digits, "-" and "_".',
    });
  }
  const s3 = parseS3Url(place.dir);
  if (s3) {
    return new S3Storage({ bucket: s3.bucket, prefix: s3.prefix ? `${s3.prefix}/${remote}` : remote }, { endpoint: place.endpoint, forcePathStyle: place.forcePathStyle }, env);
  }
  return new DirectoryStorage(path.join(place.dir, remote));
}
