import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { createRemoteAccount } from '../support/backup.js';
import { tempDir } from '../support/files.js';
import { cli, cliJson, dataDirs, postmasterPid, serverDir, writeManagedProject } from './support.js';

interface Check {
  name: string;
  ok?: boolean;
  detail?: string;
}

describe('read-only commands never start a stopped managed server', () => {
  it('`remote test NAME` and `doctor` report the template check as not checked and leave the server stopped', async () => {
    const root = serverDir('dbfast-ro-srv-');
    const account = await createRemoteAccount({ createdb: true, prefix: 'rosrv' });
    const project = writeManagedProject(tempDir(), {
      templateName: 'rosrv',
      extraToml: `\n[remotes.staging]\nurl = "${account.url}"\npassword_env = "${account.passwordEnv}"\nenvironment = "local"\nallow_destructive = true\n`,
    });
    const env = { [account.passwordEnv]: account.password };
    // The template exists on the managed server; then the server is stopped.
    await cliJson(root, ['build'], { cwd: project, extraEnv: env });
    await cliJson(root, ['server', 'stop'], { cwd: project, extraEnv: env });
    const [dataDir] = dataDirs(root);
    expect(postmasterPid(dataDir as string)).toBeUndefined();

    await cli(root, ['--json', 'doctor'], { cwd: project, extraEnv: env });
    expect(postmasterPid(dataDir as string), 'doctor started the managed server').toBeUndefined();

    const tested = await cli(root, ['--json', 'remote', 'test', 'staging'], { cwd: project, extraEnv: env });
    expect(postmasterPid(dataDir as string), 'remote test started the managed server').toBeUndefined();
    const checks = parseJson<{ checks: Check[] }>(tested).checks;
    expect(JSON.stringify(checks.find((check) => check.name === 'template'))).toContain('managed server stopped: not checked');
  });
});
