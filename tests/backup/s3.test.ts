import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeS3Server, startS3Server, type S3TestServer } from '../support/s3.js';
import { cli, cliJson, createRemoteAccount, seedShop, tableCounts, writeProject, type Project, type RemoteAccount } from '../support/backup.js';

let s3: S3TestServer;
let account: RemoteAccount;

beforeAll(async () => {
  s3 = await startS3Server();
  account = await createRemoteAccount({ createdb: true, prefix: 'bks3' });
  await seedShop(account, 40);
});

afterAll(async () => {
  await removeS3Server(s3);
});

function s3Project(prefix: string, backup: Record<string, string | number | boolean> = {}): Project {
  return writeProject([{ name: 'staging', account }], {
    dir: `s3://${s3.bucket}/${prefix}`,
    backup: { endpoint: s3.endpoint, force_path_style: true, ...backup },
    env: s3.env,
  });
}

interface ListJson {
  backups: Array<{ id: string; file: string; health: string; verified: boolean }>;
  warnings: string[];
}

describe('backups in S3-compatible object storage', () => {
  it('create, list, verify, restore and prune go through the bucket', async () => {
    const project = s3Project('team');
    const created = await cliJson<{ backup: { id: string; file: string; verified: boolean } }>(project, ['backup', 'create', '--remote', 'staging']);
    const id = created.backup.id;
    expect(created.backup.file).toBe(`s3://${s3.bucket}/team/staging/${id}.dump.zst`);
    // The archive and its metadata are objects in the bucket; nothing went to a local folder.
    expect(readFileSync(s3.objectFile(`team/staging/${id}.json`), 'utf8')).toContain(`"id": "${id}"`);
    expect(s3.danglingUploads()).toEqual([]);

    const list = await cliJson<ListJson>(project, ['backup', 'list', '--remote', 'staging']);
    expect(list.backups.map((b) => [b.id, b.health])).toEqual([[id, 'verified']]);
    const human = await cli(project, ['backup', 'list', '--remote', 'staging']);
    expect(human.stdout).toMatch(new RegExp(`${id} .* yes`));

    const verify = await cliJson<{ verify: { ok: boolean; results: Array<{ id: string }> } }>(project, ['backup', 'verify', '--remote', 'staging', '--backup-id', 'latest']);
    expect(verify.verify).toMatchObject({ ok: true, results: [{ id }] });

    const before = await tableCounts(account.adminDbUrl);
    await cliJson(project, ['backup', 'create', '--remote', 'staging']);
    await cliJson(project, ['backup', 'prune', '--remote', 'staging', '--keep-last', '1', '--confirm']);
    const left = await cliJson<ListJson>(project, ['backup', 'list', '--remote', 'staging']);
    expect(left.backups).toHaveLength(1);
    expect(left.backups[0]?.id).not.toBe(id);

    // Change the data, then restore the newest backup: the rows come back from the bucket.
    const { asAccount } = await import('../support/backup.js');
    await asAccount(account, 'DELETE FROM shop.purchase WHERE id % 2 = 0');
    const restored = await cliJson<{ restore: { id: string } }>(project, ['backup', 'restore', '--remote', 'staging', '--backup-id', 'latest']);
    expect(restored.restore.id).toBe(left.backups[0]?.id);
    expect(await tableCounts(account.adminDbUrl)).toEqual(before);
  });

  it('a flipped byte in the stored object: verify exits 3, restore refuses and touches nothing', async () => {
    const project = s3Project('flip');
    const { backup } = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
    const file = s3.objectFile(`flip/staging/${backup.id}.dump.zst`);
    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    writeFileSync(file, bytes);

    const verify = await cli(project, ['--json', 'backup', 'verify', '--remote', 'staging', '--backup-id', backup.id]);
    expect(verify.exitCode, verify.stderr).toBe(3);
    expect(verify.stdout).toMatch(/sha256 differs/);

    const before = await tableCounts(account.adminDbUrl);
    await (await import('../support/backup.js')).asAccount(account, 'DELETE FROM shop.purchase WHERE id = 1');
    const changed = await tableCounts(account.adminDbUrl);
    const restore = await cli(project, ['backup', 'restore', '--remote', 'staging', '--backup-id', backup.id]);
    expect(restore.exitCode, restore.stderr).toBe(3);
    expect(restore.stderr).toMatch(/failed verification; nothing was restored/);
    expect(await tableCounts(account.adminDbUrl)).toEqual(changed);
    expect(changed).not.toEqual(before);
    // The damaged backup is not what `latest` means any more.
    const latest = await cli(project, ['backup', 'restore', '--remote', 'staging', '--backup-id', 'latest']);
    expect(latest.exitCode).toBe(2);
    expect(latest.stderr).toMatch(/no restorable backup/);
  });

  it('restore --jobs 2 from S3 says it needs a temporary copy, and removes it', async () => {
    const project = s3Project('jobs');
    await cliJson(project, ['backup', 'create', '--remote', 'staging']);
    const before = await tableCounts(account.adminDbUrl);
    const restore = await cli(project, ['backup', 'restore', '--remote', 'staging', '--backup-id', 'latest', '--jobs', '2']);
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(restore.stderr).toMatch(/pg_restore --jobs 2 needs a seekable file: backup \S+ is decompressed to \S+\.dbfast\/tmp first/);
    expect(readdirSync(path.join(project.dir, '.dbfast', 'tmp'))).toEqual([]);
    expect(await tableCounts(account.adminDbUrl)).toEqual(before);
  });
});
