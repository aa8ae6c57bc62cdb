import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, PROJECT_ROOT, parseJson } from '../support/cli.js';
import { dropDatabase, remote } from '../support/db.js';
import { cli, createRemoteAccount, expectNoPasswordLeak, outputs } from '../support/backup.js';
import { writeDeployProject, type DeployProject } from '../support/deploy.js';

const MONITOR = path.join(PROJECT_ROOT, 'examples', 'monitoring', 'dbfast-monitor');

// A `dbfast` on PATH, as an installed one would be, running this checkout's CLI.
const binDir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-monitor-bin-'));
writeFileSync(path.join(binDir, 'dbfast'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
chmodSync(path.join(binDir, 'dbfast'), 0o755);
afterAll(() => rmSync(binDir, { recursive: true, force: true }));

/** Runs examples/monitoring/dbfast-monitor as cron or a systemd timer would: sh, the project in DBFAST_PROJECT, the password in the environment. */
async function monitor(project: DeployProject, remoteName: string): Promise<{ exitCode: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...project.env, NO_COLOR: '1', PATH: `${binDir}:${process.env.PATH ?? ''}`, DBFAST_PROJECT: project.dir };
    const child = spawn('sh', [MONITOR, remoteName], { cwd: os.tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      outputs.push({ exitCode, signal: null, stdout: output, stderr: '' });
      resolve({ exitCode, output });
    });
  });
}

describe('monitoring: status --remote --check, backup check --max-age, the README monitor script', { timeout: 240_000 }, () => {
  it('the README shows the monitor script and its systemd units as they are in examples/monitoring', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    for (const file of ['dbfast-monitor', 'dbfast-monitor@.service', 'dbfast-monitor@.timer']) {
      expect(readme, file).toContain(readFileSync(path.join(PROJECT_ROOT, 'examples', 'monitoring', file), 'utf8'));
    }
  });

  it('quiet and 0 when well; 3 naming the problem without a recent backup, and when the deployed database is gone', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'mon' });
    const project = writeDeployProject([{ name: 'production', account, environment: 'production' }]);

    // Reachable and nothing deployed yet, but no backup at all: the backup check fails, exit 3.
    const fresh = await monitor(project, 'production');
    expect(fresh.exitCode, fresh.output).toBe(3);
    expect(fresh.output).toContain('$ dbfast backup check --remote production --max-age 26h\n');
    expect(fresh.output).not.toContain('$ dbfast status');

    const deployed = await cli(project, ['--json', 'deploy', '--remote', 'production', '--confirm']);
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    const well = await monitor(project, 'production');
    expect(well).toEqual({ exitCode: 0, output: '' });

    // Someone drops the live database: the server still answers, but the application has nothing.
    await dropDatabase(remote, account.database);
    const gone = await monitor(project, 'production');
    expect(gone.exitCode, gone.output).toBe(3);
    expect(gone.output).toContain('$ dbfast status --remote production --check\n');
    expect(gone.output).toContain(`production has problems: database "${account.database}" does not exist on the server, though deploy `);
    expect(gone.output).not.toContain('$ dbfast backup check');
    const json = parseJson<{ ok: boolean; problems: string[]; connection: { ok: boolean; databaseExists: boolean } }>(
      await cli(project, ['--json', 'status', '--remote', 'production', '--check']),
    );
    expect(json).toMatchObject({ ok: false, connection: { ok: true, databaseExists: false } });
    // Without --check the report is the result: exit 0.
    const text = await cli(project, ['status', '--remote', 'production']);
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(`database "${account.database}" does not exist\n`);

    // A check that cannot run (an unknown remote) is not a found problem: its own exit code, 2.
    const unknown = await monitor(project, 'nope');
    expect(unknown.exitCode).toBe(2);
    expectNoPasswordLeak([account.password], []);
  });
});
