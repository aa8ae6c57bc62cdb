import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from '../support/cli.js';
import {
  cli,
  cliJson,
  createRemoteAccount,
  expectNoPasswordLeak,
  filesIn,
  seedShop,
  tableCounts,
  writeProject,
  type Project,
  type RemoteAccount,
} from '../support/backup.js';

interface BackupJson {
  id: string;
  file: string;
  createdAt: string;
  sizeBytes: number;
  sha256: string;
  compression: string;
  database: string;
  remote: string;
}

let account: RemoteAccount;
let project: Project;

beforeAll(async () => {
  account = await createRemoteAccount({ createdb: true, prefix: 'bkcv' });
  await seedShop(account, 40);
  project = writeProject([{ name: 'staging', account }]);
});

describe('backup create / list / verify', () => {
  for (const compression of ['zstd', 'lz4', 'gzip', 'none'] as const) {
    it(`creates, lists and verifies a ${compression} backup`, async () => {
      const { backup } = await cliJson<{ backup: BackupJson }>(project, ['backup', 'create', '--remote', 'staging', '--compression', compression]);
      expect(Object.keys(backup).sort()).toEqual(['compression', 'createdAt', 'database', 'file', 'id', 'remote', 'sha256', 'sizeBytes', 'verified']);
      expect(backup.id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{4}$/);
      expect(backup.compression).toBe(compression);
      expect(backup.database).toBe(account.database);
      expect(backup.remote).toBe('staging');
      const folder = path.join(project.backupDir, 'staging');
      const ext = { zstd: '.zst', lz4: '.lz4', gzip: '.gz', none: '' }[compression];
      expect(backup.file).toBe(path.join(folder, `${backup.id}.dump${ext}`));
      expect(filesIn(folder)).toEqual(expect.arrayContaining([`${backup.id}.dump${ext}`, `${backup.id}.json`]));
      expect(filesIn(folder).filter((f) => f.endsWith('.partial'))).toEqual([]);

      // The metadata: counts from the dump's own snapshot, versions, checksum of the file.
      const meta = JSON.parse(readFileSync(path.join(folder, `${backup.id}.json`), 'utf8')) as Record<string, unknown>;
      // The read-back at create time is recorded as the backup's first check (issue 9.1).
      expect(meta).toMatchObject({ id: backup.id, sha256: backup.sha256, sizeBytes: backup.sizeBytes, remote: 'staging', compression, verified: { ok: true, problems: [] }, verifiedByRestore: null });
      expect(filesIn(folder).filter((f) => f.endsWith('.pending'))).toEqual([]);
      expect(meta.tables).toEqual([
        { schema: 'public', table: 'Odd Name', rows: 2 },
        { schema: 'shop', table: 'customer', rows: 40 },
        { schema: 'shop', table: 'purchase', rows: 120 },
      ]);
      expect(String(meta.serverVersion)).toMatch(/^\d+\.\d+/);
      expect(String(meta.pgDumpVersion)).toMatch(/^\d+\.\d+/);
      // The file's magic: compressed the way its name says.
      const head = readFileSync(backup.file).subarray(0, 5);
      const magic = { zstd: '28b52ffd', lz4: '4446cc34', gzip: '1f8b', none: '5047444d50' }[compression];
      if (compression === 'lz4') expect(head.subarray(0, 4).toString('latin1')).toBe('DFL4');
      else expect(head.toString('hex').startsWith(magic)).toBe(true);

      const { backups } = await cliJson<{ backups: Array<BackupJson & { verified: boolean }> }>(project, ['backup', 'list', '--remote', 'staging']);
      // Verified from the start: create read it back from the store (issue 9.1: it showed "-").
      expect(backups[0]).toMatchObject({ ...backup, verified: true, health: 'verified' });

      const verify = await cliJson<{ verify: { ok: boolean; results: Array<{ id: string; ok: boolean; problems: string[] }> } }>(project, [
        'backup', 'verify', '--remote', 'staging', '--backup-id', backup.id,
      ]);
      expect(verify.verify).toMatchObject({ ok: true, results: [{ id: backup.id, ok: true, problems: [] }] });
      const after = await cliJson<{ backups: Array<{ id: string; verified: boolean }> }>(project, ['backup', 'list', '--remote', 'staging']);
      expect(after.backups.find((b) => b.id === backup.id)?.verified).toBe(true);
    });
  }

  it('lists newest first, as a table without --json', async () => {
    const first = await cliJson<{ backup: BackupJson }>(project, ['backup', 'create', '--remote', 'staging']);
    const second = await cliJson<{ backup: BackupJson }>(project, ['backup', 'create', '--remote', 'staging']);
    const { backups } = await cliJson<{ backups: BackupJson[] }>(project, ['backup', 'list', '--remote', 'staging']);
    const ids = backups.map((b) => b.id);
    expect(ids.indexOf(second.backup.id)).toBeLessThan(ids.indexOf(first.backup.id));
    expect(ids.indexOf(second.backup.id)).toBe(0);
    const human = await cli(project, ['backup', 'list', '--remote', 'staging']);
    expect(human.exitCode).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CREATED\s+SIZE\s+COMPRESSION\s+DATABASE\s+VERIFIED$/);
    expect(lines[1]).toContain(second.backup.id);
  });

  it('does not list an archive without metadata or metadata without its archive', async () => {
    const other = writeProject([{ name: 'staging', account }]);
    const { backup } = await cliJson<{ backup: BackupJson }>(other, ['backup', 'create', '--remote', 'staging']);
    const folder = path.join(other.backupDir, 'staging');
    writeFileSync(path.join(folder, '20200101T000000Z-abcd.dump.zst'), 'not an archive');
    writeFileSync(path.join(folder, '20200101T000000Z-beef.json'), readFileSync(path.join(folder, `${backup.id}.json`), 'utf8').replaceAll(backup.id, '20200101T000000Z-beef'));
    const list = await cliJson<{ backups: BackupJson[]; warnings: string[] }>(other, ['backup', 'list', '--remote', 'staging']);
    expect(list.backups.map((b) => b.id)).toEqual([backup.id]);
    expect(list.warnings.join('\n')).toMatch(/20200101T000000Z-abcd\.dump\.zst: archive without metadata/);
    expect(list.warnings.join('\n')).toMatch(/20200101T000000Z-beef\.json: the archive .* is missing/);
    const verbose = await cli(other, ['--verbose', 'backup', 'list', '--remote', 'staging']);
    expect(verbose.stderr).toMatch(/warning: 20200101T000000Z-abcd/);
  });

  for (const where of ['beginning', 'middle', 'end'] as const) {
    it(`catches a flipped byte at the ${where} of the file; restore refuses it and touches nothing`, async () => {
      const p = writeProject([{ name: 'staging', account }]);
      const { backup } = await cliJson<{ backup: BackupJson }>(p, ['backup', 'create', '--remote', 'staging']);
      const bytes = readFileSync(backup.file);
      const at = where === 'beginning' ? 10 : where === 'middle' ? Math.floor(bytes.length / 2) : bytes.length - 3;
      bytes[at] = (bytes[at] as number) ^ 0x01;
      writeFileSync(backup.file, bytes);

      const verify = await cli(p, ['--json', 'backup', 'verify', '--remote', 'staging', '--backup-id', backup.id]);
      expect(verify.exitCode).toBe(3);
      const body = parseJson<{ verify: { ok: boolean; results: Array<{ problems: string[] }> } }>(verify);
      expect(body.verify.ok).toBe(false);
      expect(body.verify.results[0]?.problems.join('\n')).toMatch(/sha256 differs/);
      const human = await cli(p, ['backup', 'verify', '--remote', 'staging', '--backup-id', backup.id]);
      expect(human.exitCode).toBe(3);
      expect(human.stdout).toMatch(/FAILED .*\n.*sha256 differs/);

      // Change the data, then try to restore the damaged backup: refused, database as it was.
      await import('../support/backup.js').then(({ asAccount }) => asAccount(account, 'INSERT INTO public."Odd Name" VALUES ($1)', [`marker-${where}`]));
      const before = await tableCounts(account.adminDbUrl);
      const restore = await cli(p, ['backup', 'restore', '--remote', 'staging', '--backup-id', backup.id, '--confirm']);
      expect(restore.exitCode).toBe(3);
      expect(restore.stderr).toMatch(/failed verification; nothing was restored/);
      expect(await tableCounts(account.adminDbUrl)).toEqual(before);
      const prev = await import('../support/db.js').then(({ databasesLike, remote }) => databasesLike(remote, `${account.database}__dbfast`));
      expect(prev).toEqual([]);
    });
  }

  it('verify --all reports each backup and exits 3 when one is damaged', async () => {
    const p = writeProject([{ name: 'staging', account }]);
    const good = await cliJson<{ backup: BackupJson }>(p, ['backup', 'create', '--remote', 'staging', '--compression', 'lz4']);
    const bad = await cliJson<{ backup: BackupJson }>(p, ['backup', 'create', '--remote', 'staging', '--compression', 'gzip']);
    writeFileSync(bad.backup.file, readFileSync(bad.backup.file).subarray(0, bad.backup.sizeBytes - 100));
    const result = await cli(p, ['--json', 'backup', 'verify', '--remote', 'staging', '--all']);
    expect(result.exitCode).toBe(3);
    const body = parseJson<{ verify: { results: Array<{ id: string; ok: boolean; problems: string[] }> } }>(result);
    expect(body.verify.results.find((r) => r.id === good.backup.id)?.ok).toBe(true);
    const badResult = body.verify.results.find((r) => r.id === bad.backup.id);
    expect(badResult?.ok).toBe(false);
    expect(badResult?.problems.join('\n')).toMatch(/size differs/);
    expect(badResult?.problems.join('\n')).toMatch(/cannot be read/);
  });

  it('lists without the password; a create that fails leaves no file', async () => {
    const p = writeProject([{ name: 'staging', account }]);
    const { backup } = await cliJson<{ backup: BackupJson }>(p, ['backup', 'create', '--remote', 'staging']);
    const offline = await runCli(['--json', 'backup', 'list', '--remote', 'staging'], { cwd: p.dir, env: { [account.passwordEnv]: undefined } });
    expect(offline.exitCode).toBe(0);
    expect(parseJson<{ backups: BackupJson[] }>(offline).backups.map((b) => b.id)).toEqual([backup.id]);

    const folder = path.join(p.backupDir, 'staging');
    const before = filesIn(folder);
    const wrong = await cli(p, ['backup', 'create', '--remote', 'staging'], { [account.passwordEnv]: 'not-the-password' });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(/password authentication failed/);
    expect(wrong.stderr).toMatch(/hint: /);
    expect(filesIn(folder)).toEqual(before);
    const unset = await runCli(['backup', 'create', '--remote', 'staging'], { cwd: p.dir, env: { [account.passwordEnv]: undefined } });
    expect(unset.exitCode).toBe(2);
    expect(unset.stderr).toContain(`remotes.staging.password_env names ${account.passwordEnv}, which is not set`);
  });

  it('verify without --backup-id or --all is a usage error', async () => {
    const result = await cli(project, ['backup', 'verify', '--remote', 'staging']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--backup-id ID or --all/);
  });

  it('never shows the password', async () => {
    expectNoPasswordLeak([account.password], [path.join(project.backupDir, 'staging')]);
  });
});
