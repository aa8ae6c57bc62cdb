import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, createRemoteAccount, seedShop, writeProject, type RemoteAccount } from '../support/backup.js';

let account: RemoteAccount;

beforeAll(async () => {
  account = await createRemoteAccount({ createdb: true, prefix: 'bkgit' });
  await seedShop(account, 3);
});

const WARNING = /warning: backups go to .*, inside a git working tree and not ignored/g;

describe('backup create warns when dumps could be committed', () => {
  it('warns once when the backup folder is in a git working tree and not ignored; not once it is ignored', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    execFileSync('git', ['init', '-q', project.dir]);
    const exposed = await cli(project, ['backup', 'create', '--remote', 'staging']);
    expect(exposed.exitCode, exposed.stderr).toBe(0);
    expect(exposed.stderr.match(WARNING)).toHaveLength(1);

    appendFileSync(`${project.dir}/.gitignore`, 'backups/\n');
    const ignored = await cli(project, ['backup', 'create', '--remote', 'staging']);
    expect(ignored.exitCode).toBe(0);
    expect(ignored.stderr).not.toMatch(WARNING);
  });

  it('says nothing outside a git working tree', async () => {
    const project = writeProject([{ name: 'staging', account }]);
    const result = await cli(project, ['backup', 'create', '--remote', 'staging']);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toMatch(WARNING);
  });
});
