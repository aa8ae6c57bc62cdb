import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { asAccount, createRemoteAccount, cli } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';

/** A project whose last file gives every copy of the template a database setting that would break dbfast's own sessions. */
function projectWithSetting(account: Awaited<ReturnType<typeof createRemoteAccount>>, setting: string) {
  const project = writeDeployProject([{ name: 'staging', account }]);
  // The last file of the last layer: the template's own files never run under the setting (the README: from the next file on).
  writeFileSync(path.join(project.repo, '1_seed_common', '999_setting.sql'), `ALTER DATABASE :"DBNAME" SET ${setting};\n`);
  return project;
}

describe("dbfast's own sessions do not inherit the database's settings", () => {
  it('a template with statement_timeout = 1 (every copy, the dump clone too) deploys', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'owntmo' });
    const project = projectWithSetting(account, 'statement_timeout = 1');
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(parseJson(result)).toMatchObject({ result: 'success' });
  });

  it('a template with default_transaction_read_only = on deploys and the deploy is on the remote history', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'ownro' });
    const project = projectWithSetting(account, 'default_transaction_read_only = on');
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toContain('could not record the deploy on the remote');
    const history = await cli(project, ['--json', 'history', '--remote', 'staging']);
    expect(history.exitCode, history.stdout + history.stderr).toBe(0);
    expect(JSON.stringify(parseJson(history))).toContain('"success"');
    // The application's sessions keep the database's setting: only dbfast's own sessions set their own.
    expect(await asAccount(account, 'SHOW default_transaction_read_only')).toEqual([{ default_transaction_read_only: 'on' }]);
  });
});

describe('pg_restore into a database whose default is read-only', () => {
  it('a second deploy in place (no CREATEDB) restores into the live database that now has default_transaction_read_only = on', async () => {
    const account = await createRemoteAccount({ createdb: false, prefix: 'ownrip' });
    const project = projectWithSetting(account, 'default_transaction_read_only = on');
    const first = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(first.exitCode, first.stdout + first.stderr).toBe(0);
    expect(parseJson(first)).toMatchObject({ result: 'success', mode: 'in-place' });
    expect(await asAccount(account, 'SHOW default_transaction_read_only')).toEqual([{ default_transaction_read_only: 'on' }]);
    const second = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(second.exitCode, second.stdout + second.stderr).toBe(0);
    expect(parseJson(second)).toMatchObject({ result: 'success', mode: 'in-place' });
  });
});
