import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson, createRemoteAccount, filesIn, seedShop, writeProject, type Project, type RemoteAccount } from '../support/backup.js';

interface PruneJson {
  prune: { dryRun: boolean; delete: Array<{ id: string }>; protected: Array<{ id: string; reason: string }>; kept: string[]; deleted: string[] };
}

let account: RemoteAccount;

beforeAll(async () => {
  account = await createRemoteAccount({ createdb: true, prefix: 'bkpr' });
  await seedShop(account, 5);
});

/** Makes `count` backups, then back-dates them one day apart (oldest first), as if made daily. */
async function backups(project: Project, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { backup } = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging', '--compression', 'lz4']);
    ids.push(backup.id);
  }
  const folder = path.join(project.backupDir, 'staging');
  ids.forEach((id, i) => {
    const file = path.join(folder, `${id}.json`);
    const meta = JSON.parse(readFileSync(file, 'utf8')) as { createdAt: string };
    meta.createdAt = new Date(Date.now() - (count - i) * 86_400_000).toISOString();
    writeFileSync(file, JSON.stringify(meta));
  });
  return ids.reverse(); // newest first
}

describe('backup prune', () => {
  it('without --confirm only lists; with it deletes, keeping the newest verified backup', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const [newest, second, third, fourth, oldest] = await backups(project, 5);
    // Only the fourth is verified: it must survive --keep 1 although it is old.
    await cliJson(project, ['backup', 'verify', '--remote', 'staging', '--backup-id', fourth as string]);
    const folder = path.join(project.backupDir, 'staging');
    const before = filesIn(folder);

    const dry = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--keep', '1']);
    expect(dry.prune.dryRun).toBe(true);
    expect(dry.prune.delete.map((d) => d.id)).toEqual([second, third, oldest]);
    expect(dry.prune.protected).toEqual([{ id: fourth, reason: 'the newest verified backup is always kept' }]);
    expect(dry.prune.deleted).toEqual([]);
    expect(filesIn(folder)).toEqual(before);
    const human = await cli(project, ['backup', 'prune', '--remote', 'staging', '--keep', '1']);
    expect(human.stdout).toMatch(/would delete {2}\S+ {2}\(beyond the newest 1\)/);
    expect(human.stdout).toMatch(/dry run: nothing was deleted; add --confirm to delete/);

    const real = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--keep', '1', '--confirm']);
    expect(real.prune.deleted).toEqual([second, third, oldest]);
    const { backups: left } = await cliJson<{ backups: Array<{ id: string }> }>(project, ['backup', 'list', '--remote', 'staging']);
    expect(left.map((b) => b.id)).toEqual([newest, fourth]);
    expect(filesIn(folder).filter((f) => f.startsWith(second as string))).toEqual([]);
  });

  it('--older-than deletes by age but never the newest backup', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const [newest, second, third] = await backups(project, 3);
    const dry = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--older-than', '36h']);
    expect(dry.prune.delete.map((d) => d.id)).toEqual([second, third]);
    const all = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--older-than', '1m', '--confirm']);
    expect(all.prune.deleted).toEqual([second, third]);
    expect(all.prune.protected).toEqual([{ id: newest, reason: 'the newest backup is always kept' }]);
  });

  it('takes --keep from [backup] keep, and needs some criterion', async () => {
    const withKeep = writeProject([{ name: 'staging', account }], { keep: 2 });
    const [, , third] = await backups(withKeep, 3);
    const dry = await cliJson<PruneJson>(withKeep, ['backup', 'prune', '--remote', 'staging']);
    expect(dry.prune.delete.map((d) => d.id)).toEqual([third]);
    const without = writeProject([{ name: 'staging', account }]);
    const result = await cli(without, ['backup', 'prune', '--remote', 'staging']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/needs --keep N or --older-than AGE/);
    const badAge = await cli(without, ['backup', 'prune', '--remote', 'staging', '--older-than', 'soon']);
    expect(badAge.exitCode).toBe(2);
  });
});
