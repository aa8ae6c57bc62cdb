import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { databasesLike, dropDatabase, remote } from '../support/db.js';
import { cli, createRemoteAccount, seedShop } from '../support/backup.js';
import { failingRestoreBinDir, writeDeployProject } from '../support/deploy.js';
import { startCli, waitUntil } from '../support/interrupt.js';

describe('backup verify --restore-test killed outright (issue 9.11)', () => {
  it('leaves a scratch database that the next verify recognises and removes; one still in use is left alone', { timeout: 180_000 }, async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'vorph' });
    await seedShop(account, 20);
    // dbfast.toml restores slowly (a pg_restore that waits a minute first); quick.toml, beside it, does not.
    const project = writeDeployProject([{ name: 'staging', account }], { pgBinDir: failingRestoreBinDir({ delaySeconds: 60, fail: false }) });
    const toml = readFileSync(path.join(project.dir, 'dbfast.toml'), 'utf8');
    writeFileSync(path.join(project.dir, 'quick.toml'), toml.replace(/\[tools\]\npg_bin_dir = .*\n/, ''));
    const created = await cli(project, ['--json', 'backup', 'create', '--remote', 'staging']);
    expect(created.exitCode, created.stdout + created.stderr).toBe(0);
    const { backup } = parseJson<{ backup: { id: string } }>(created);
    const scratchPrefix = `dbfast_verify_${backup.id.toLowerCase().replace('-', '_')}`;
    const scratches = (): Promise<string[]> => databasesLike(remote, scratchPrefix);
    const verifyArgs = ['backup', 'verify', '--remote', 'staging', '--backup-id', backup.id, '--restore-test'];

    const killed = startCli(project, verifyArgs);
    await waitUntil('the scratch database exists', async () => (await scratches()).length === 1, { running: killed });
    const [orphan] = await scratches();
    process.kill(-(killed.child.pid as number), 'SIGKILL');
    await killed.exited;
    expect(await scratches()).toEqual([orphan]);

    // The next verify recognises the orphan (its maker is gone), drops it, and goes on with its own scratch database.
    const busy = startCli(project, verifyArgs);
    await waitUntil('the orphan is gone and the next verify works in its own scratch database', async () => {
      const now = await scratches();
      return now.length === 1 && now[0] !== orphan;
    }, { running: busy });
    const [inUse] = await scratches();
    try {
      const next = await cli(project, ['--json', '--config', 'quick.toml', ...verifyArgs]);
      expect(next.exitCode, next.stdout + next.stderr).toBe(0);
      expect(await scratches()).toEqual([inUse]);
    } finally {
      process.kill(-(busy.child.pid as number), 'SIGKILL');
      await busy.exited;
      for (const name of await scratches()) await dropDatabase(remote, name);
    }
  });
});
