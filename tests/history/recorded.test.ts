import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { cli, createRemoteAccount, filesIn, type Project } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';
import { FIRST, hasDbfastSchema, json, productionProject } from '../support/migrate.js';

interface HistoryJson {
  source: string;
  deploys: Array<{ kind: string; result: string; backupId: string | null; deployId: string }>;
}

interface StatusJson {
  deployed: { deployId: string; kind: string; backupId: string | null } | null;
  lastEvent: { kind: string; result: string; deployId: string } | null;
  migrations: { applied: number; pending: number; drifted: number } | null;
  migrationsNote: string | null;
}

async function localRecords(project: Project, remote: string): Promise<Array<{ kind: string; result: string }>> {
  return parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', remote, '--local'])).deploys;
}

describe('history of restores (issue 10.10) and what status --remote says (10.11)', () => {
  it('records `backup restore` on the remote and locally; status --remote shows it as what is live', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'hrs' });
    const project = writeDeployProject([{ name: 'staging', account }]);
    const deployed = parseJson<{ deployId: string; backupId: string }>(await cli(project, ['--json', 'deploy', '--remote', 'staging']));
    const restored = await cli(project, ['--json', 'backup', 'restore', '--remote', 'staging', '--backup-id', deployed.backupId]);
    expect(restored.exitCode, restored.stdout + restored.stderr).toBe(0);

    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.source).toBe('remote');
    expect(history.deploys.map((d) => [d.kind, d.result, d.backupId])).toEqual([
      ['restore', 'success', deployed.backupId],
      ['deploy', 'success', deployed.backupId],
    ]);
    expect((await localRecords(project, 'staging')).map((r) => [r.kind, r.result])).toEqual([['restore', 'success'], ['deploy', 'success']]);

    const status = parseJson<StatusJson>(await cli(project, ['--json', 'status', '--remote', 'staging']));
    expect(status.lastEvent).toMatchObject({ kind: 'restore', result: 'success' });
    expect(status.deployed).toMatchObject({ kind: 'restore', backupId: deployed.backupId, deployId: history.deploys[0]?.deployId });
    const human = await cli(project, ['status', '--remote', 'staging']);
    expect(human.stdout).toContain(`restore of backup ${deployed.backupId}`);
  });

  it('status --remote counts the migrations, as `migrate status` does', async () => {
    const { project } = await productionProject({ prefix: 'hrm' });
    await json(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    const status = parseJson<StatusJson>(await cli(project, ['--json', 'status', '--remote', 'production']));
    expect(status.migrations).toEqual({ applied: 1, pending: 0, drifted: 0 });
    expect(status.migrationsNote).toBeNull();
    const human = await cli(project, ['status', '--remote', 'production']);
    expect(human.stdout).toContain('migrations   1 applied, 0 pending');
    const files = await json<{ applied: string[] }>(project, ['migrate', 'status', '--remote', 'production']);
    expect(files.body.applied).toEqual([FIRST]);
  });
});

describe('validate before writing anything (issue 10.12)', () => {
  it('rollback --to an unknown backup id, or with nothing to roll back to, and deploy with a bad --jobs, write nothing', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'hval' });
    const project = writeDeployProject([{ name: 'staging', account }]);
    const unknown = await cli(project, ['--json', 'rollback', '--remote', 'staging', '--to', '20200101T000000Z-0000']);
    expect(unknown.exitCode, unknown.stdout).toBe(2);
    expect(parseJson<{ error: { code: string } }>(unknown).error.code).toBe('BACKUP_NOT_FOUND');
    const malformed = await cli(project, ['--json', 'rollback', '--remote', 'staging', '--to', 'yesterday']);
    expect(malformed.exitCode, malformed.stdout).toBe(2);
    const nothing = await cli(project, ['--json', 'rollback', '--remote', 'staging']);
    expect(nothing.exitCode, nothing.stdout).toBe(1);
    expect(parseJson<{ error: { code: string } }>(nothing).error.code).toBe('NO_PREVIOUS');
    for (const jobs of ['0', 'two']) {
      const badJobs = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--jobs', jobs]);
      expect(badJobs.exitCode, badJobs.stdout).toBe(2);
      expect(parseJson<{ error: { code: string } }>(badJobs).error.code).toBe('USAGE');
    }
    expect(await hasDbfastSchema(account)).toBe(false);
    expect(filesIn(project.backupDir)).toEqual([]);
    expect((await localRecords(project, 'staging')).filter((r) => r.result !== 'refused')).toEqual([]);
  });
});
