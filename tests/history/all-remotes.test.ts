import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, createRemoteAccount, type RemoteAccount } from '../support/backup.js';
import { parseJson } from '../support/cli.js';
import { writeDeployProject } from '../support/deploy.js';

interface AllHistory {
  remotes: Array<{ remote: string; source: string }>;
  deploys: Array<{ deployId: string; remote: string; kind: string; result: string; startedAt: string }>;
}

let alpha: RemoteAccount;
let beta: RemoteAccount;

beforeAll(async () => {
  [alpha, beta] = await Promise.all([createRemoteAccount({ createdb: true, prefix: 'hista' }), createRemoteAccount({ createdb: true, prefix: 'histb' })]);
});

describe('history without --remote: every remote, newest first', () => {
  it('merges real deploys to two remotes in the order they ran, each from its own history table', async () => {
    const project = writeDeployProject([
      { name: 'alpha', account: alpha },
      { name: 'beta', account: beta },
    ]);
    const ids: Array<[string, string]> = [];
    for (const remote of ['alpha', 'beta', 'alpha']) {
      const result = await cli(project, ['--json', 'deploy', '--remote', remote]);
      expect(result.exitCode, result.stderr + result.stdout).toBe(0);
      ids.push([remote, parseJson<{ deployId: string }>(result).deployId]);
    }
    const all = await cli(project, ['--json', 'history']);
    expect(all.exitCode, all.stderr).toBe(0);
    const history = parseJson<AllHistory>(all);
    expect(history.remotes).toEqual([{ remote: 'alpha', source: 'remote' }, { remote: 'beta', source: 'remote' }]);
    expect(history.deploys.map((d) => [d.remote, d.deployId])).toEqual([...ids].reverse());
    const times = history.deploys.map((d) => Date.parse(d.startedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const limited = parseJson<AllHistory>(await cli(project, ['--json', 'history', '--limit', '2']));
    expect(limited.deploys.map((d) => d.deployId)).toEqual([ids[2]?.[1], ids[1]?.[1]]);

    const text = await cli(project, ['history']);
    expect(text.exitCode).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toBe('history of every remote, newest first: alpha (remote), beta (remote)');
    expect(lines[1]).toMatch(/^REMOTE\s+STARTED\s+KIND\s+RESULT/);
    expect(lines.slice(2).map((line) => line.split(/\s+/)[0])).toEqual(['alpha', 'beta', 'alpha']);

    // --remote still gives one remote's history, as before.
    const one = parseJson<{ remote: string; deploys: Array<{ deployId: string }> }>(await cli(project, ['--json', 'history', '--remote', 'beta']));
    expect(one).toMatchObject({ remote: 'beta' });
    expect(one.deploys.map((d) => d.deployId)).toEqual([ids[1]?.[1]]);
  });

  it('a remote that cannot be reached is read from this machine, and merged in time order', async () => {
    // An account of its own: alpha's history table already holds the runs of the test above.
    const fresh = await createRemoteAccount({ createdb: true, prefix: 'histc' });
    const project = writeDeployProject([{ name: 'alpha', account: fresh }]);
    // A second remote on a closed port: its refused deploy is recorded in this machine's history only.
    appendFileSync(path.join(project.dir, 'dbfast.toml'), '\n[remotes.gone]\nurl = "postgresql://app@127.0.0.1:1/shop"\nenvironment = "staging"\nallow_destructive = true\n');
    const refused = await cli(project, ['--json', 'deploy', '--remote', 'gone']);
    expect(refused.exitCode).toBe(1);
    const deployed = await cli(project, ['--json', 'deploy', '--remote', 'alpha']);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    const alphaRun = parseJson<{ deployId: string }>(deployed).deployId;
    const all = await cli(project, ['--json', 'history']);
    expect(all.exitCode, all.stderr).toBe(0);
    const history = parseJson<AllHistory>(all);
    expect(history.remotes).toEqual([{ remote: 'alpha', source: 'remote' }, { remote: 'gone', source: 'local' }]);
    expect(history.deploys.map((d) => [d.remote, d.result])).toEqual([['alpha', 'success'], ['gone', 'refused']]);
    expect(history.deploys[0]?.deployId).toBe(alphaRun);
    const text = await cli(project, ['history']);
    expect(text.stderr).toContain('cannot read the history on remote "gone"');
    expect(text.stdout.split('\n')[0]).toBe('history of every remote, newest first: alpha (remote), gone (local)');
  });
});
