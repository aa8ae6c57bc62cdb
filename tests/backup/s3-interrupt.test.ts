import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { removeS3Server, startS3Server, type S3TestServer } from '../support/s3.js';
import { asAccount, cliJson, createRemoteAccount, writeProject, type Project, type RemoteAccount } from '../support/backup.js';

let s3: S3TestServer;
let account: RemoteAccount;

beforeAll(async () => {
  s3 = await startS3Server();
  account = await createRemoteAccount({ createdb: true, prefix: 'bks3k' });
  // ~70 MB uncompressed: several 16 MiB parts of a multipart upload.
  await asAccount(
    account,
    `CREATE TABLE public.big AS
     SELECT g AS id, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text) AS payload
     FROM generate_series(1, 500000) g`,
  );
}, 180_000);

afterAll(async () => {
  await removeS3Server(s3);
});

function s3Project(prefix: string): Project {
  return writeProject([{ name: 'staging', account }], {
    dir: `s3://${s3.bucket}/${prefix}`,
    compression: 'none',
    backup: { endpoint: s3.endpoint, force_path_style: true },
    env: s3.env,
  });
}

/** Objects under a prefix of the test bucket, as s3rver stores them on disk. */
function objectsUnder(prefix: string): string[] {
  const dir = path.join(s3.directory, s3.bucket, ...prefix.split('/'));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('._S3rver_object'))
    .map((name) => name.slice(0, -'._S3rver_object'.length))
    .sort();
}

/** True once a multipart upload has stored its first part. */
function uploadUnderway(): boolean {
  const root = path.join(s3.directory, s3.bucket, '._S3rver_uploads');
  return s3.danglingUploads().some((id) => existsSync(path.join(root, id, '1')));
}

/** Starts `backup create`, runs `whenUploading` once a part of the archive is stored, returns how the process ended. */
async function createUntilUploading(
  project: Project,
  whenUploading: (child: ReturnType<typeof spawn>) => Promise<void> | void,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, '--json', 'backup', 'create', '--remote', 'staging'], {
    cwd: project.dir,
    env: { ...process.env, ...project.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  for (;;) {
    if (uploadUnderway()) break;
    if (child.exitCode !== null) throw new Error(`the backup ended before its upload was underway:\n${stdout}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await whenUploading(child);
  return { ...(await exited), stdout, stderr };
}

interface ListJson {
  backups: unknown[];
  warnings: string[];
}

describe('an interrupted upload to S3 leaves nothing listed and no unfinished upload', () => {
  it('SIGKILL mid-upload: nothing listed; the next command aborts the multipart upload and removes the marker', async () => {
    const project = s3Project('killed');
    const result = await createUntilUploading(project, (child) => void child.kill('SIGKILL'));
    expect(result.signal).toBe('SIGKILL');
    // What the killed process left: its marker and lock, and an upload S3 keeps (and bills) until aborted.
    expect(s3.danglingUploads()).toHaveLength(1);
    expect(objectsUnder('killed/staging').some((name) => name.endsWith('.pending'))).toBe(true);
    expect(objectsUnder('killed/staging').filter((name) => name.includes('.dump'))).toEqual([]);

    const list = await cliJson<ListJson>(project, ['backup', 'list', '--remote', 'staging']);
    expect(list.backups).toEqual([]);
    expect(list.warnings.join('\n')).toMatch(/removed unfinished multipart upload of s3:\/\/dbfast-test\/killed\/staging\/\S+\.dump: left by an interrupted backup/);
    expect(s3.danglingUploads()).toEqual([]);
    expect(objectsUnder('killed/staging')).toEqual([]);
  });

  it('the S3 server stopping mid-upload fails the backup cleanly (exit 1, the cause named); nothing is listed afterwards', async () => {
    const project = s3Project('stopped');
    let restarted = false;
    try {
      const result = await createUntilUploading(project, () => s3.stop());
      expect(result.code, result.stderr).toBe(1);
      const error = (JSON.parse(result.stdout) as { error: { code: string; message: string; hint: string } }).error;
      expect(error.code).toBe('BACKUP_STORAGE_FAILED');
      expect(error.message).toMatch(/^uploading s3:\/\/dbfast-test\/stopped\/staging\/\S+\.dump failed: /);
      expect(error.hint).toMatch(/did not answer/);
      await s3.start();
      restarted = true;
      const list = await cliJson<ListJson>(project, ['backup', 'list', '--remote', 'staging']);
      expect(list.backups).toEqual([]);
      expect(s3.danglingUploads()).toEqual([]);
      expect(objectsUnder('stopped/staging')).toEqual([]);
      // The store works again: the next backup succeeds.
      const next = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
      expect(objectsUnder('stopped/staging')).toEqual([`${next.backup.id}.dump`, `${next.backup.id}.json`]);
    } finally {
      if (!restarted) await s3.start();
    }
  });
});
