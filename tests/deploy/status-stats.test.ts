import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { DbfastConfig } from '../../src/config/types.js';
import { newRecord, recordLocally, recordOnRemote, type DeployRecord, type DeployResult, type HistoryKind } from '../../src/history/records.js';
import { parseJson } from '../support/cli.js';
import { cli, createRemoteAccount, expectNoPasswordLeak, type RemoteAccount } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';
import { healthServer } from '../support/hooks.js';

interface StatusJson {
  remote: string;
  url: string;
  database: string;
  environment: string;
  connection: { ok: boolean; databaseExists: boolean | null; serverVersion: string | null };
  historySource: 'remote' | 'local';
  deployed: { deployId: string; environment: string; templateHash: string | null; osUser: string; host: string; backupId: string | null; finishedAt: string | null } | null;
  lastEvent: { kind: string; result: string; deployId: string } | null;
  migrations: unknown;
  migrationsNote: string | null;
  lastBackup: { id: string; sizeBytes: number } | null;
  health: { ok: boolean; status: number | null } | null;
  ok: boolean;
  problems: string[];
}

interface StatsJson {
  days: number;
  remotes: Array<{
    remote: string;
    source: string;
    deploys: number;
    succeeded: number;
    failed: number;
    rolledBack: number;
    refused: number;
    successRate: number | null;
    meanDurationMs: number | null;
    p95DurationMs: number | null;
    lastSuccess: { deployId: string; durationMs: number | null } | null;
    lastFailure: { deployId: string; result: string; error: string | null } | null;
  }>;
}

/** The same account's URL, but at a port where nothing listens. */
function unreachable(account: RemoteAccount): RemoteAccount {
  const url = new URL(account.url);
  url.port = '1';
  return { ...account, url: url.toString() };
}

const MINUTE = 60_000;

function record(fields: { id: string; minutesAgo: number; result: DeployResult; durationMs: number; kind?: HistoryKind; remote?: string }): DeployRecord {
  const started = new Date(Date.now() - fields.minutesAgo * MINUTE);
  return {
    ...newRecord({ deployId: fields.id, kind: fields.kind ?? 'deploy', remote: fields.remote ?? 'staging', environment: 'staging', database: 'db' }),
    startedAt: started.toISOString(),
    finishedAt: new Date(started.getTime() + fields.durationMs).toISOString(),
    durationMs: fields.durationMs,
    result: fields.result,
    error: fields.result === 'success' ? null : `boom ${fields.id}`,
  };
}

describe('dbfast status --remote', { timeout: 240_000 }, () => {
  it('on a fresh remote, after a deploy, unreachable, and with a failing health check', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'st' });
    const healthy = await healthServer(200);
    const project = writeDeployProject([{ name: 'staging', account, healthCheck: { url: healthy.url, timeoutSeconds: 5 } }]);

    const fresh = await cli(project, ['--json', 'status', '--remote', 'staging', '--check']);
    expect(fresh.exitCode, fresh.stdout).toBe(0);
    const first = parseJson<StatusJson>(fresh);
    expect(first).toMatchObject({ remote: 'staging', database: account.database, environment: 'staging', historySource: 'remote', deployed: null, lastEvent: null, migrations: null, lastBackup: null, ok: true, problems: [] });
    expect(first.connection).toMatchObject({ ok: true, databaseExists: true });
    expect(first.migrationsNote).toMatch(/^not available/);
    expect(first.health).toMatchObject({ ok: true, status: 200 });

    const deployed = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(deployed.exitCode, deployed.stdout).toBe(0);
    const report = parseJson<{ deployId: string; backupId: string; templateHash: string }>(deployed);
    const after = parseJson<StatusJson>(await cli(project, ['--json', 'status', '--remote', 'staging', '--check']));
    expect(after.deployed).toMatchObject({ deployId: report.deployId, environment: 'staging', templateHash: report.templateHash, osUser: os.userInfo().username, host: os.hostname(), backupId: report.backupId });
    expect(after.lastEvent).toMatchObject({ kind: 'deploy', result: 'success', deployId: report.deployId });
    expect(after.lastBackup?.id).toBe(report.backupId);
    expect(after.historySource).toBe('remote');
    const human = await cli(project, ['status', '--remote', 'staging']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toContain(`deployed     environment staging, template ${report.templateHash.slice(0, 12)}`);
    expect(human.stdout).toContain(`last backup  ${report.backupId}`);
    expect(human.stdout).toContain('staging is up');

    // The remote cannot be reached: the local history still says what was deployed; --check exits 3.
    const offlineToml = path.join(project.dir, 'offline.toml');
    writeFileSync(offlineToml, readFileSync(path.join(project.dir, 'dbfast.toml'), 'utf8').replace(account.url, unreachable(account).url));
    const offline = await cli(project, ['--json', '--config', offlineToml, 'status', '--remote', 'staging', '--check']);
    expect(offline.exitCode).toBe(3);
    const down = parseJson<StatusJson>(offline);
    expect(down.ok).toBe(false);
    expect(down.connection.ok).toBe(false);
    expect(down.historySource).toBe('local');
    expect(down.deployed?.deployId).toBe(report.deployId);
    expect(down.problems[0]).toMatch(/^cannot connect/);
    expect((await cli(project, ['--json', '--config', offlineToml, 'status', '--remote', 'staging'])).exitCode).toBe(0);

    // Reachable, but the application answers 503.
    const sick = await healthServer(503);
    const sickToml = path.join(project.dir, 'sick.toml');
    writeFileSync(sickToml, readFileSync(path.join(project.dir, 'dbfast.toml'), 'utf8').replace(healthy.url, sick.url));
    const unhealthy = await cli(project, ['--json', '--config', sickToml, 'status', '--remote', 'staging', '--check']);
    expect(unhealthy.exitCode).toBe(3);
    const ill = parseJson<StatusJson>(unhealthy);
    expect(ill.connection.ok).toBe(true);
    expect(ill.health).toMatchObject({ ok: false, status: 503 });
    expect(ill.problems).toEqual([expect.stringContaining('answered 503, expected 200')]);

    const refused = await cli(project, ['status', '--remote', 'staging', '--env', 'staging']);
    expect(refused.exitCode).toBe(2);

    // stats over the real deploy agrees with the history.
    const history = parseJson<{ deploys: Array<{ durationMs: number }> }>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    const stats = parseJson<StatsJson>(await cli(project, ['--json', 'stats', '--remote', 'staging']));
    expect(stats.remotes).toEqual([
      expect.objectContaining({ remote: 'staging', source: 'remote', deploys: 1, succeeded: 1, successRate: 1, meanDurationMs: history.deploys[0]?.durationMs, p95DurationMs: history.deploys[0]?.durationMs, lastFailure: null }),
    ]);
    expectNoPasswordLeak([account.password], []);
  });
});

describe('dbfast stats', { timeout: 120_000 }, () => {
  it('counts deploys, success rate, mean and p95 duration, last success and failure, per remote, in the window', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'sts' });
    const project = writeDeployProject([{ name: 'staging', account }, { name: 'offline', account: unreachable(account) }]);

    // On the remote: 20 successes of 1..20 s (newest is 1 s), 3 failed, 1 rolled back, 1 refused,
    // a rollback (not a deploy) and a success 40 days old (outside the default window).
    const records: DeployRecord[] = [];
    for (let i = 1; i <= 20; i++) records.push(record({ id: `ok-${i}`, minutesAgo: 10 + i, result: 'success', durationMs: i * 1000 }));
    records.push(record({ id: 'failed-1', minutesAgo: 5, result: 'failed', durationMs: 300 }));
    records.push(record({ id: 'failed-2', minutesAgo: 50, result: 'failed', durationMs: 300 }));
    records.push(record({ id: 'failed-3', minutesAgo: 60, result: 'failed', durationMs: 300 }));
    records.push(record({ id: 'rolled-1', minutesAgo: 70, result: 'rolled_back', durationMs: 9000 }));
    records.push(record({ id: 'refused-1', minutesAgo: 80, result: 'refused', durationMs: 10 }));
    records.push(record({ id: 'rollback-1', minutesAgo: 1, result: 'success', durationMs: 500, kind: 'rollback' }));
    records.push(record({ id: 'old-1', minutesAgo: 40 * 24 * 60, result: 'success', durationMs: 100_000 }));
    const client = new pg.Client({ connectionString: account.adminDbUrl });
    await client.connect();
    try {
      for (const r of records) await recordOnRemote(client, r);
    } finally {
      await client.end();
    }
    // Only in this machine's history, for the remote that cannot be reached.
    const config = { rootDir: project.dir } as DbfastConfig;
    await recordLocally(config, record({ id: 'local-ok', minutesAgo: 30, result: 'success', durationMs: 4000, remote: 'offline' }));
    await recordLocally(config, record({ id: 'local-failed', minutesAgo: 20, result: 'failed', durationMs: 100, remote: 'offline' }));

    const result = await cli(project, ['--json', 'stats']);
    expect(result.exitCode, result.stdout).toBe(0);
    const stats = parseJson<StatsJson>(result);
    expect(stats.days).toBe(30);
    expect(stats.remotes.map((r) => r.remote)).toEqual(['staging', 'offline']);
    expect(stats.remotes[0]).toEqual({
      remote: 'staging',
      source: 'remote',
      deploys: 25,
      succeeded: 20,
      failed: 3,
      rolledBack: 1,
      refused: 1,
      successRate: 0.8,
      meanDurationMs: 10_500,
      p95DurationMs: 19_000,
      lastSuccess: expect.objectContaining({ deployId: 'ok-1', durationMs: 1000 }),
      lastFailure: expect.objectContaining({ deployId: 'failed-1', result: 'failed', error: 'boom failed-1' }),
    });
    expect(stats.remotes[1]).toMatchObject({ remote: 'offline', source: 'local', deploys: 2, succeeded: 1, failed: 1, successRate: 0.5, meanDurationMs: 4000, p95DurationMs: 4000 });
    expect(stats.remotes[1]?.lastFailure?.deployId).toBe('local-failed');

    // A wider window takes in the old deploy.
    const wide = parseJson<StatsJson>(await cli(project, ['--json', 'stats', '--remote', 'staging', '--days', '60']));
    expect(wide.remotes).toHaveLength(1);
    expect(wide.remotes[0]).toMatchObject({ deploys: 26, succeeded: 21, meanDurationMs: 14_762, p95DurationMs: 20_000 });

    const human = await cli(project, ['stats', '--remote', 'staging']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toContain('staging (remote history): 25 deploys, 20 ok, 3 failed, 1 rolled back, 1 refused; success 80.0%');
    expect(human.stdout).toContain('mean 10.5 s, p95 19.0 s');
    expect((await cli(project, ['stats', '--days', 'soon'])).exitCode).toBe(2);
    expectNoPasswordLeak([account.password], []);
  });
});
