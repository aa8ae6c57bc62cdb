import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeDeployProject } from '../support/deploy.js';
import { cli, cliJson, createRemoteAccount } from '../support/backup.js';

describe('retention after a deploy backup', () => {
  it('keep_last applies to the backups deploys take', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'bkdr' });
    const project = writeDeployProject([{ name: 'staging', account }]);
    const toml = path.join(project.dir, 'dbfast.toml');
    writeFileSync(toml, readFileSync(toml, 'utf8').replace('dir = "backups"', 'dir = "backups"\nkeep_last = 1'));
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const deploy = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
      expect(deploy.exitCode, deploy.stderr + deploy.stdout).toBe(0);
      ids.push((JSON.parse(deploy.stdout) as { backupId: string }).backupId);
    }
    const { backups } = await cliJson<{ backups: Array<{ id: string }> }>(project, ['backup', 'list', '--remote', 'staging']);
    expect(backups.map((b) => b.id)).toEqual([ids[1]]);
  });
});
