import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, parseJson } from '../support/cli.js';
import { asAccount, cli, cliJson, createRemoteAccount, filesIn, writeProject, type Project, type RemoteAccount } from '../support/backup.js';

let account: RemoteAccount;

beforeAll(async () => {
  account = await createRemoteAccount({ createdb: true, prefix: 'bkint' });
  // Big enough that the dump takes a while: ~400k rows of 160 random-looking characters.
  await asAccount(
    account,
    `CREATE TABLE public.big AS
     SELECT g AS id, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text) AS payload
     FROM generate_series(1, 400000) g`,
  );
}, 180_000);

/** Starts `backup create`, waits until its .partial file has data, sends `signal`, returns the exit. */
async function interruptCreate(project: Project, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const folder = path.join(project.backupDir, 'staging');
  const child = spawn(process.execPath, [CLI, 'backup', 'create', '--remote', 'staging'], {
    cwd: project.dir,
    env: { ...process.env, ...project.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  let sent = false;
  while (!sent) {
    const partial = filesIn(folder).find((name) => PARTIAL_ARCHIVE.test(name));
    if (partial && statSync(path.join(folder, partial), { throwIfNoEntry: false })?.size) {
      child.kill(signal);
      sent = true;
    } else if (child.exitCode !== null) {
      throw new Error(`the backup finished before it could be interrupted:\n${stderr}`);
    } else {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  return { ...(await exited), stderr };
}

/** The archive being written: `<id>.dump.zst.<hex>.partial`. */
const PARTIAL_ARCHIVE = /\.dump\.zst\.[0-9a-f]{6}\.partial$/;

/** A backup is its archive and its metadata; `.partial` files, `.pending` markers and the lock are not. */
function looksValid(name: string): boolean {
  return !name.endsWith('.partial') && !name.endsWith('.pending') && !name.startsWith('.');
}

describe('an interrupted backup leaves nothing that looks valid', () => {
  it('SIGKILL mid-dump: only a .partial file and its marker are left, never listed, removed by the next command', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const folder = path.join(project.backupDir, 'staging');
    const result = await interruptCreate(project, 'SIGKILL');
    expect(result.signal).toBe('SIGKILL');
    const left = filesIn(folder);
    expect(left.some((name) => PARTIAL_ARCHIVE.test(name))).toBe(true);
    expect(left.some((name) => name.endsWith('.pending'))).toBe(true);
    expect(left.filter(looksValid)).toEqual([]);
    const list = await cliJson<{ backups: unknown[]; warnings: string[] }>(project, ['backup', 'list', '--remote', 'staging']);
    expect(list.backups).toEqual([]);
    expect(list.warnings.join('\n')).toMatch(/left by an interrupted backup/);
    // The killed process's lock is taken over: list itself removed the leftovers.
    expect(filesIn(folder).filter((name) => name.endsWith('.partial') || name.endsWith('.pending'))).toEqual([]);

    const next = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
    const after = filesIn(folder);
    expect(after.filter((name) => name.endsWith('.partial'))).toEqual([]);
    expect(after.filter(looksValid)).toEqual([`${next.backup.id}.dump.zst`, `${next.backup.id}.json`]);
    const verify = await cliJson<{ verify: { ok: boolean } }>(project, ['backup', 'verify', '--remote', 'staging', '--backup-id', next.backup.id]);
    expect(verify.verify.ok).toBe(true);
  });

  it('a lock naming a live pid is taken over when that pid now belongs to another process (its start time differs), and refused when it is the holder', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const folder = path.join(project.backupDir, 'staging');
    mkdirSync(folder, { recursive: true });
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
    // This test process runs: with its own start time it holds the lock.
    writeFileSync(path.join(folder, '.create.lock'), `${process.pid} ${started}\n`);
    const busy = await cli(project, ['--json', 'backup', 'create', '--remote', 'staging']);
    expect(busy.exitCode).not.toBe(0);
    expect(parseJson<{ error: { code: string } }>(busy).error.code).toBe('BACKUP_BUSY');
    // The same pid with another start time: the holder died and its pid was reused.
    writeFileSync(path.join(folder, '.create.lock'), `${process.pid} 1\n`);
    const created = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'staging']);
    expect(filesIn(folder).filter(looksValid)).toEqual([`${created.backup.id}.dump.zst`, `${created.backup.id}.json`]);
  });

  it('SIGINT mid-dump: exits 130 and cleans up after itself', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const folder = path.join(project.backupDir, 'staging');
    const result = await interruptCreate(project, 'SIGINT');
    expect(result, result.stderr).toMatchObject({ code: 130 });
    expect(result.stderr).toMatch(/interrupted/);
    expect(filesIn(folder)).toEqual([]);
  });
});
