import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, cliJson, createRemoteAccount, filesIn, seedShop, writeProject, type Project, type RemoteAccount } from '../support/backup.js';

interface PruneJson {
  prune: { dryRun: boolean; delete: Array<{ id: string; reason: string }>; protected: Array<{ id: string; reason: string }>; kept: string[]; deleted: string[] };
}

let account: RemoteAccount;

beforeAll(async () => {
  account = await createRemoteAccount({ createdb: true, prefix: 'bkpr' });
  await seedShop(account, 5);
});

function metadataFile(project: Project, id: string): string {
  return path.join(project.backupDir, 'staging', `${id}.json`);
}

function editMetadata(project: Project, id: string, edit: (meta: Record<string, unknown>) => void): void {
  const meta = JSON.parse(readFileSync(metadataFile(project, id), 'utf8')) as Record<string, unknown>;
  edit(meta);
  writeFileSync(metadataFile(project, id), JSON.stringify(meta));
}

/** Makes `count` backups, then back-dates them one day apart (oldest first), as if made daily. Newest first. */
async function backups(project: Project, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { backup } = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging', '--compression', 'lz4']);
    ids.push(backup.id);
  }
  ids.forEach((id, i) => editMetadata(project, id, (meta) => (meta.createdAt = new Date(Date.now() - (count - i) * 86_400_000).toISOString())));
  return ids.reverse();
}

/** Damages a backup's archive and lets `backup verify` find it so (recorded in its metadata). */
async function damage(project: Project, id: string): Promise<void> {
  const file = path.join(project.backupDir, 'staging', `${id}.dump.lz4`);
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0xff;
  writeFileSync(file, bytes);
  const verify = await cli(project, ['backup', 'verify', '--remote', 'staging', '--backup-id', id]);
  expect(verify.exitCode).toBe(3);
}

describe('backup prune', () => {
  it('issue 9.1: never deletes the only intact backup when the newer one is damaged', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const [newer, older] = await backups(project, 2);
    await damage(project, newer as string);
    // As a backup made before create recorded its read-back: never verified, but intact.
    editMetadata(project, older as string, (meta) => (meta.verified = null));
    const result = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--keep', '1', '--confirm']);
    expect(result.prune.deleted).toEqual([]);
    const { backups: left } = await cliJson<{ backups: Array<{ id: string; health: string }> }>(project, ['backup', 'list', '--remote', 'staging']);
    expect(left.map((b) => [b.id, b.health])).toEqual([[newer, 'damaged'], [older, 'unverified']]);
    // And it is what `latest` restores or verifies.
    const verify = await cliJson<{ verify: { results: Array<{ id: string; ok: boolean }> } }>(project, ['backup', 'verify', '--remote', 'staging', '--backup-id', 'latest']);
    expect(verify.verify.results).toEqual([expect.objectContaining({ id: older, ok: true })]);
  });

  it('issue 9.1 family: a backup damaged since its last check is found by prune --confirm before it deletes the intact one', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const [newer, older] = await backups(project, 2);
    // Damaged after create read it back, and nobody verified it since: its metadata still says verified.
    const file = path.join(project.backupDir, 'staging', `${newer as string}.dump.lz4`);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const result = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--keep', '1', '--confirm']);
    expect(result.prune.deleted).toEqual([]);
    const { backups: left } = await cliJson<{ backups: Array<{ id: string; health: string }> }>(project, ['backup', 'list', '--remote', 'staging']);
    expect(left.map((b) => [b.id, b.health])).toEqual([[newer, 'damaged'], [older, 'verified']]);
  });

  it('without --confirm only lists; damaged backups do not count; the newest verified one is kept', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const [newest, second, third, fourth, oldest] = (await backups(project, 5)) as [string, string, string, string, string];
    await damage(project, newest);
    for (const id of [second, third]) editMetadata(project, id, (meta) => (meta.verified = null));
    const folder = path.join(project.backupDir, 'staging');
    const before = filesIn(folder);

    const dry = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--keep-last', '1']);
    expect(dry.prune.dryRun).toBe(true);
    // second counts (intact, though unverified); fourth is the newest verified one.
    expect(dry.prune.delete.map((d) => d.id)).toEqual([third, oldest]);
    expect(dry.prune.protected).toEqual([
      { id: newest, reason: 'the newest backup is always kept' },
      { id: fourth, reason: 'the newest verified backup is always kept' },
    ]);
    expect(dry.prune.deleted).toEqual([]);
    expect(filesIn(folder)).toEqual(before);
    const human = await cli(project, ['backup', 'prune', '--remote', 'staging', '--keep-last', '1']);
    expect(human.stdout).toMatch(/would delete {2}\S+ {2}\(beyond the newest 1\)/);
    expect(human.stdout).toMatch(/dry run: nothing was deleted; add --confirm to delete/);

    const real = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--keep-last', '1', '--confirm']);
    expect(real.prune.deleted).toEqual([third, oldest]);
    const { backups: left } = await cliJson<{ backups: Array<{ id: string }> }>(project, ['backup', 'list', '--remote', 'staging']);
    expect(left.map((b) => b.id)).toEqual([newest, second, fourth]);
    expect(filesIn(folder).filter((f) => f.startsWith(third))).toEqual([]);
  });

  it('by age: --older-than / --keep-days / keep_days, never the newest backup', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const [newest, second, third] = await backups(project, 3);
    const dry = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--older-than', '36h']);
    expect(dry.prune.delete.map((d) => d.id)).toEqual([second, third]);
    const days = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--keep-days', '2.5']);
    expect(days.prune.delete.map((d) => d.id)).toEqual([third]);
    expect(days.prune.delete[0]?.reason).toBe('3 days old');
    const configured = writeProject([{ name: 'staging', account }], { backup: { keep_days: 2.5 } });
    const [, , configuredThird] = await backups(configured, 3);
    const fromConfig = await cliJson<PruneJson>(configured, ['backup', 'prune', '--remote', 'staging']);
    expect(fromConfig.prune.delete.map((d) => d.id)).toEqual([configuredThird]);

    const all = await cliJson<PruneJson>(project, ['backup', 'prune', '--remote', 'staging', '--older-than', '1m', '--confirm']);
    expect(all.prune.deleted).toEqual([second, third]);
    expect(all.prune.protected).toEqual([{ id: newest, reason: 'the newest backup is always kept' }]);
  });

  it('applies keep_last after each create (keep, its old name, too), and needs some criterion', async () => {
    const project = writeProject([{ name: 'staging', account }], { backup: { keep_last: 2 } });
    const ids: string[] = [];
    let pruned: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await cliJson<{ backup: { id: string }; pruned: string[] }>(project, ['backup', 'create', '--remote', 'staging']);
      ids.push(created.backup.id);
      pruned = created.pruned;
    }
    expect(pruned).toEqual([ids[0]]);
    const { backups: left } = await cliJson<{ backups: Array<{ id: string }> }>(project, ['backup', 'list', '--remote', 'staging']);
    expect(left.map((b) => b.id)).toEqual([ids[2], ids[1]]);

    const oldName = writeProject([{ name: 'staging', account }], { keep: 1 });
    const first = await cliJson<{ backup: { id: string } }>(oldName, ['backup', 'create', '--remote', 'staging']);
    const second = await cliJson<{ backup: { id: string }; pruned: string[] }>(oldName, ['backup', 'create', '--remote', 'staging']);
    expect(second.pruned).toEqual([first.backup.id]);
    const human = await cli(oldName, ['backup', 'create', '--remote', 'staging']);
    expect(human.exitCode, human.stderr).toBe(0);
    // told once (not on stdout and stderr both)
    expect(`${human.stdout}\n${human.stderr}`.match(new RegExp(second.backup.id, 'g'))).toHaveLength(1);
    expect(human.stderr).toContain(`retention: deleted 1 older backup(s): ${second.backup.id}`);
    const both = writeProject([{ name: 'staging', account }], { keep: 1, backup: { keep_last: 2 } });
    const conflict = await cli(both, ['backup', 'list', '--remote', 'staging']);
    expect(conflict.exitCode).toBe(2);
    expect(conflict.stderr).toMatch(/backup\.keep: `keep` is the old name of `keep_last`/);

    const without = writeProject([{ name: 'staging', account }]);
    const result = await cli(without, ['backup', 'prune', '--remote', 'staging']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/needs --keep-last N or --keep-days D/);
    const badAge = await cli(without, ['backup', 'prune', '--remote', 'staging', '--older-than', 'soon']);
    expect(badAge.exitCode).toBe(2);
  });
});
