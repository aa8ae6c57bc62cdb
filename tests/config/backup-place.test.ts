import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupScope } from '../../src/backup/scope.js';
import { loadConfig } from '../../src/config/load.js';
import { DbfastError } from '../../src/errors.js';
import { tempDir, writeTree } from '../support/files.js';

function loadText(text: string) {
  return loadConfig({ cwd: writeTree(tempDir(), { 'dbfast.toml': text }), env: {} });
}

function problems(text: string): string {
  try {
    loadText(text);
  } catch (error) {
    expect(error).toBeInstanceOf(DbfastError);
    expect((error as DbfastError).exitCode).toBe(2);
    return (error as DbfastError).message;
  }
  throw new Error('expected loadConfig to fail');
}

const REMOTES = `
[environments.test]
[remotes.staging]
url = "postgresql://app@db.example/shop"
environment = "test"
[remotes.production]
url = "postgresql://app@db.example/shop_prod"
environment = "test"
[remotes.production.backup]
dir = "s3://prod-backups/shop"
keep_days = 90
`;

describe('[backup] where backups go and how long they stay', () => {
  it('a folder resolves against the config file; s3:// stays a URL; a remote overrides per key', () => {
    const config = loadText(`[backup]\ndir = "s3://team-backups/dbfast/"\nendpoint = "http://127.0.0.1:9000"\nforce_path_style = true\nkeep_last = 7\n${REMOTES}`);
    expect(config.backup).toEqual({ dir: 's3://team-backups/dbfast/', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, keepLast: 7, compression: 'zstd' });
    const staging = backupScope(config, 'staging');
    expect(staging.storage.kind).toBe('s3');
    expect(staging.storage.location).toBe('s3://team-backups/dbfast/staging');
    expect(staging.storage.describe('x.json')).toBe('s3://team-backups/dbfast/staging/x.json');
    expect([staging.keepLast, staging.keepDays]).toEqual([7, undefined]);
    const production = backupScope(config, 'production');
    expect(production.storage.location).toBe('s3://prod-backups/shop/production');
    // keep_last comes from [backup], keep_days from the remote: each key overrides on its own.
    expect([production.keepLast, production.keepDays]).toEqual([7, 90]);

    const local = loadText(`[backup]\ndir = "../elsewhere"\n${REMOTES}`);
    expect(backupScope(local, 'staging').storage).toMatchObject({ kind: 'directory', location: path.join(local.rootDir, '..', 'elsewhere', 'staging') });
  });

  it('names the key of a bad S3 location, endpoint, or keep and keep_last together', () => {
    expect(problems('[backup]\ndir = "s3://Bad_Bucket/x"\n')).toMatch(/backup\.dir: an S3 location is s3:\/\/BUCKET/);
    expect(problems('[backup]\ndir = "s3://"\n')).toMatch(/backup\.dir/);
    expect(problems('[backup]\nendpoint = "minio:9000"\n')).toMatch(/backup\.endpoint/);
    expect(problems('[backup]\nkeep = 3\nkeep_last = 4\n')).toMatch(/backup\.keep: `keep` is the old name of `keep_last`/);
    expect(problems(`${REMOTES}\nkeep_weeks = 2\n`)).toMatch(/remotes\.production\.backup/);
  });
});
