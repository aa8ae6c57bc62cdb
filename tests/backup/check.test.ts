import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson, createRemoteAccount, seedShop, writeProject, type Project, type RemoteAccount } from '../support/backup.js';

let account: RemoteAccount;

beforeAll(async () => {
  account = await createRemoteAccount({ createdb: true, prefix: 'bkchk' });
  await seedShop(account, 3);
});

interface CheckJson {
  check: { ok: boolean; problem: string | null; backups: number; newestVerified: { id: string; ageMs: number } | null };
}

function backDate(project: Project, id: string, hours: number): void {
  const file = path.join(project.backupDir, 'staging', `${id}.json`);
  const meta = JSON.parse(readFileSync(file, 'utf8')) as { createdAt: string };
  meta.createdAt = new Date(Date.now() - hours * 3_600_000).toISOString();
  writeFileSync(file, JSON.stringify(meta));
}

async function check(project: Project, maxAge: string): Promise<{ exitCode: number | null; json: CheckJson; text: string }> {
  const json = await cli(project, ['--json', 'backup', 'check', '--remote', 'staging', '--max-age', maxAge]);
  const text = await cli(project, ['backup', 'check', '--remote', 'staging', '--max-age', maxAge]);
  expect(text.exitCode).toBe(json.exitCode);
  return { exitCode: json.exitCode, json: JSON.parse(json.stdout) as CheckJson, text: text.stdout };
}

describe('backup check --max-age (for cron and alerting)', () => {
  it('exits 3 with no backup, 0 with a fresh verified one, 3 once it is older than --max-age', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const none = await check(project, '24h');
    expect(none.exitCode).toBe(3);
    expect(none.json.check).toMatchObject({ ok: false, problem: 'there are no backups', backups: 0, newestVerified: null });
    expect(none.text).toMatch(/^STALE {3}remote "staging": there are no backups/);

    const { backup } = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
    const fresh = await check(project, '24h');
    expect(fresh.exitCode).toBe(0);
    expect(fresh.json.check).toMatchObject({ ok: true, problem: null, newestVerified: { id: backup.id } });
    expect(fresh.text).toMatch(new RegExp(`^ok {6}remote "staging": newest verified backup ${backup.id} is 0\\.0 h old`));

    backDate(project, backup.id, 30);
    const stale = await check(project, '24h');
    expect(stale.exitCode).toBe(3);
    expect(stale.json.check.problem).toBe(`the newest verified backup, ${backup.id}, is older than 24h`);
    expect((await check(project, '2d')).exitCode).toBe(0);
    const bad = await cli(project, ['backup', 'check', '--remote', 'staging', '--max-age', 'a while']);
    expect(bad.exitCode).toBe(2);
  });

  it('counts only verified backups: a newer damaged one does not make the remote look fresh', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const older = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging', '--compression', 'none']);
    backDate(project, older.backup.id, 48);
    const newer = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging', '--compression', 'none']);
    const file = path.join(project.backupDir, 'staging', `${newer.backup.id}.dump`);
    const bytes = readFileSync(file);
    bytes[100] = (bytes[100] as number) ^ 0xff;
    writeFileSync(file, bytes);
    expect((await cli(project, ['backup', 'verify', '--remote', 'staging', '--backup-id', newer.backup.id])).exitCode).toBe(3);

    const result = await check(project, '24h');
    expect(result.exitCode).toBe(3);
    expect(result.json.check.newestVerified?.id).toBe(older.backup.id);
    // And `latest` skips the damaged one too.
    const verify = await cliJson<{ verify: { results: Array<{ id: string }> } }>(project, ['backup', 'verify', '--remote', 'staging', '--backup-id', 'latest']);
    expect(verify.verify.results.map((r) => r.id)).toEqual([older.backup.id]);
  });
});
