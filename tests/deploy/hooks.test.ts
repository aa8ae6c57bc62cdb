import type { DbfastErrorJson } from '../../src/errors.js';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { query } from '../support/db.js';
import { asAccount, cli, createRemoteAccount, expectNoPasswordLeak, filesIn } from '../support/backup.js';
import { snapshot, writeDeployProject } from '../support/deploy.js';
import { databaseExists, hookCalls, writeRecordScript } from '../support/hooks.js';

interface HistoryJson {
  deploys: Array<{ deployId: string; result: string; backupId: string | null; hooksOutput: string | null; error: string | null; phases: Array<{ name: string }> }>;
}

interface ErrorJson {
  error: DbfastErrorJson;
}

const passwords: string[] = [];

describe('deploy hooks', { timeout: 240_000 }, () => {
  it('runs [deploy] hooks, then the remote\'s, in order, with the deploy\'s environment; output prefixed on stderr and kept in the history', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'hk' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE TABLE old_stuff (id int)');
    const project = writeDeployProject(
      [{ name: 'staging', account, deploy: { pre: ['sh record.sh remote-pre'], post: ['sh record.sh remote-post', 'echo "products=$(psql -X -At -c \'select count(*) from app.product\' "$DATABASE_URL")"'] } }],
      { deploy: { pre: ['sh record.sh global-pre'], post: ['sh record.sh global-post', 'echo "pw=$PGPASSWORD"'], requiredEnv: ['DBFAST_TEST_HOOK_TOKEN'] } },
    );
    writeRecordScript(project.dir);

    const result = await cli(project, ['deploy', '--remote', 'staging'], { DBFAST_TEST_HOOK_TOKEN: 'set' });
    expect(result.exitCode, result.stderr).toBe(0);
    const calls = hookCalls(project.dir);
    expect(calls.map((c) => c.label)).toEqual(['global-pre', 'remote-pre', 'global-post', 'remote-post']);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    const record = history.deploys[0];
    expect(record?.result).toBe('success');
    expect(record?.backupId).toMatch(/^\d{8}T\d{6}Z/);
    for (const call of calls) {
      expect(call.remote).toBe('staging');
      expect(call.environment).toBe('staging');
      expect(call.deploy).toBe(record?.deployId);
      expect(call.backup).toBe(call.label.endsWith('-pre') ? '' : record?.backupId);
      expect(call.cwd).toBe(realpathSync(project.dir));
      const url = new URL(call.url);
      expect(url.password).toBe('');
      expect(decodeURIComponent(url.username)).toBe(account.role);
      expect(url.pathname).toBe(`/${account.database}`);
      expect(readFileSync(path.join(project.dir, `pw-${call.label}`), 'utf8')).toBe(account.password);
    }
    // Shown as it comes, prefixed; the post hooks see the new database through DATABASE_URL + PGPASSWORD.
    expect(result.stderr).toContain('[pre] hello from global-pre');
    expect(result.stderr).toContain('[pre] hello from remote-pre');
    expect(result.stderr).toContain('[post] products=3');
    expect(result.stderr).toContain('[post] pw=***');
    expect(result.stderr.indexOf('[pre] hello from remote-pre')).toBeLessThan(result.stderr.indexOf('[post] hello from global-post'));
    expect(record?.hooksOutput).toContain('[pre] hello from global-pre\n');
    expect(record?.hooksOutput).toContain('[post] products=3\n');
    expect(record?.hooksOutput).toContain('[post] pw=***\n');
    expect(record?.phases.map((p) => p.name)).toEqual(['preflight', 'build', 'pre-hooks', 'backup', 'restore', 'validate', 'swap', 'verify', 'post-hooks']);

    // With --json: the same hooks run, nothing of theirs on stderr, the phases in the report.
    const json = await cli(project, ['--json', 'deploy', '--remote', 'staging'], { DBFAST_TEST_HOOK_TOKEN: 'set' });
    expect(json.exitCode, json.stdout).toBe(0);
    expect(json.stderr).toBe('');
    const report = parseJson<{ phases: Array<{ name: string }>; warnings: string[]; health: null }>(json);
    expect(report.phases.map((p) => p.name)).toContain('pre-hooks');
    expect(report.phases.map((p) => p.name)).toContain('post-hooks');
    expect(report.warnings).toEqual([]);
    expect(hookCalls(project.dir)).toHaveLength(8);
    expectNoPasswordLeak([account.password], [path.join(project.dir, '.dbfast', 'history')]);
    expect(readFileSync(path.join(project.dir, '.dbfast', 'history', 'staging.jsonl'), 'utf8')).not.toContain(account.password);
  });

  it('refuses before any change when required variables are missing, naming all of them; a dry run lists them as a failed check', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'hkenv' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account, deploy: { requiredEnv: ['DBFAST_TEST_NEEDED_C', 'DBFAST_TEST_SET_D'] } }], {
      deploy: { requiredEnv: ['DBFAST_TEST_NEEDED_A', 'DBFAST_TEST_NEEDED_B'], pre: ['touch pre-ran'] },
    });
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging'], { DBFAST_TEST_SET_D: 'yes' });
    expect(result.exitCode).toBe(2);
    const error = parseJson<ErrorJson>(result).error;
    expect(error.code).toBe('REQUIRED_ENV_MISSING');
    expect(error.details.missing).toEqual(['DBFAST_TEST_NEEDED_A', 'DBFAST_TEST_NEEDED_B', 'DBFAST_TEST_NEEDED_C']);
    expect(error.message).toContain('DBFAST_TEST_NEEDED_A, DBFAST_TEST_NEEDED_B, DBFAST_TEST_NEEDED_C');
    expect(error.hint).toContain('required_env');
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(existsSync(path.join(project.dir, 'pre-ran'))).toBe(false);
    expect(filesIn(project.backupDir)).toEqual([]);
    expect(existsSync(path.join(project.dir, '.dbfast', 'history'))).toBe(false);

    const human = await cli(project, ['deploy', '--remote', 'staging'], { DBFAST_TEST_SET_D: 'yes' });
    expect(human.exitCode).toBe(2);
    expect(human.stderr).toContain('DBFAST_TEST_NEEDED_A, DBFAST_TEST_NEEDED_B, DBFAST_TEST_NEEDED_C');

    const dry = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--dry-run'], { DBFAST_TEST_SET_D: 'yes', DBFAST_TEST_NEEDED_B: 'b' });
    // A failed check makes the dry run a failed check run (exit 3, ok: false), as `remote test`.
    expect(dry.exitCode, dry.stdout).toBe(3);
    const { ok, plan } = parseJson<{ ok: boolean; plan: { checks: Array<{ name: string; ok: boolean; detail: string }>; hooks: { missingEnv: string[] } } }>(dry);
    expect(ok).toBe(false);
    expect(plan.hooks.missingEnv).toEqual(['DBFAST_TEST_NEEDED_A', 'DBFAST_TEST_NEEDED_C']);
    expect(plan.checks.find((c) => c.name === 'required_env')).toMatchObject({ ok: false, detail: 'not set: DBFAST_TEST_NEEDED_A, DBFAST_TEST_NEEDED_C' });
    expect(existsSync(path.join(project.dir, 'pre-ran'))).toBe(false);
    expect(snapshot(account.adminDbUrl)).toBe(before);
  });

  it('a failing pre hook stops the deploy before any change; the next hooks do not run; a hook past its timeout is killed', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'hkpre' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account, deploy: { pre: ['echo checking the gate; echo gate closed >&2; exit 4', 'touch second-ran'], post: ['touch post-ran'] } }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode).toBe(1);
    const error = parseJson<ErrorJson>(result).error;
    expect(error.code).toBe('PRE_HOOK_FAILED');
    expect(error.message).toContain('exited with 4');
    expect(error.message).toContain('echo checking the gate');
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(existsSync(path.join(project.dir, 'second-ran'))).toBe(false);
    expect(existsSync(path.join(project.dir, 'post-ran'))).toBe(false);
    expect(filesIn(path.join(project.backupDir, 'staging'))).toEqual([]);
    expect(await databaseExists(`${account.database}__dbfast_new`)).toBe(false);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.result).toBe('failed');
    expect(history.deploys[0]?.hooksOutput).toContain('[pre] checking the gate\n');
    expect(history.deploys[0]?.hooksOutput).toContain('[pre] gate closed\n');

    const slow = writeDeployProject([{ name: 'staging', account, deploy: { pre: ['echo waiting; sleep 60; touch slept'], timeoutSeconds: 1 } }]);
    const timedOut = await cli(slow, ['--json', 'deploy', '--remote', 'staging']);
    const slowError = parseJson<ErrorJson>(timedOut).error;
    expect(slowError.code).toBe('PRE_HOOK_FAILED');
    expect(slowError.message).toContain('timed out after 1 s');
    expect(existsSync(path.join(slow.dir, 'slept'))).toBe(false);
    expect(snapshot(account.adminDbUrl)).toBe(before);
  });

  it('a failing post hook swaps the previous database back; with post_failure = "warn" the deploy stays', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'hkpost' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (7)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account, deploy: { post: ['echo smoke test failed; exit 1', 'touch second-post-ran'] } }]);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode).toBe(1);
    const error = parseJson<ErrorJson>(result).error;
    expect(error.code).toBe('POST_HOOK_FAILED');
    expect(error.details.rolledBack).toBe(true);
    expect(error.message).toContain('Rolled back');
    // The hook's own hint survives the rollback's.
    expect(error.hint).toBe('See the hook output above (and in `dbfast history`).');
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(existsSync(path.join(project.dir, 'second-post-ran'))).toBe(false);
    expect(await databaseExists(`${account.database}__dbfast_new`)).toBe(false);
    // The failed database is gone: a later `dbfast rollback` cannot bring it back.
    expect(await databaseExists(`${account.database}__dbfast_prev`)).toBe(false);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.result).toBe('rolled_back');
    expect(history.deploys[0]?.hooksOutput).toContain('[post] smoke test failed\n');
    expect(history.deploys[0]?.phases.map((p) => p.name).slice(-2)).toEqual(['post-hooks', 'rollback']);

    const lenient = writeDeployProject([{ name: 'staging', account, deploy: { post: ['echo smoke test failed; exit 1'], postFailure: 'warn' } }]);
    const kept = await cli(lenient, ['--json', 'deploy', '--remote', 'staging']);
    expect(kept.exitCode, kept.stdout).toBe(0);
    const report = parseJson<{ warnings: string[] }>(kept);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toContain('post_failure = "warn"');
    expect((await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM app.product'))[0]).toEqual({ n: 3 });
    const after = parseJson<HistoryJson>(await cli(lenient, ['--json', 'history', '--remote', 'staging']));
    expect(after.deploys[0]?.result).toBe('success');
    const human = await cli(lenient, ['deploy', '--remote', 'staging']);
    expect(human.exitCode).toBe(0);
    expect(human.stderr).toContain('[post] smoke test failed');
    expect(human.stderr).toContain('warning: post hook 1 of 1 exited with 1');
  });

  it('in place (no CREATEDB): a failing post hook restores the backup', async () => {
    const account = await createRemoteAccount({ createdb: false, prefix: 'hkinp' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE SCHEMA app; CREATE TABLE app.legacy (id int); INSERT INTO app.legacy VALUES (1), (2)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account, deploy: { post: ['sh record.sh post; exit 9'] } }]);
    writeRecordScript(project.dir);
    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode).toBe(1);
    const error = parseJson<ErrorJson>(result).error;
    expect(error.code).toBe('POST_HOOK_FAILED');
    expect(error.details.rolledBack).toBe(true);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.result).toBe('rolled_back');
    expect(error.message).toContain(`backup ${history.deploys[0]?.backupId} was restored`);
    expect(hookCalls(project.dir).map((c) => c.backup)).toEqual([history.deploys[0]?.backupId]);
    expect(snapshot(account.adminDbUrl)).toBe(before);
  });

  it('a dry run lists the hooks and the health check in its steps and runs none', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'hkdry' });
    passwords.push(account.password);
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject(
      [{ name: 'staging', account, deploy: { post: ['touch remote-post-ran'] }, healthCheck: { url: 'http://127.0.0.1:9/health', timeoutSeconds: 5 } }],
      { deploy: { pre: ['touch global-pre-ran'] } },
    );
    const result = await cli(project, ['deploy', '--remote', 'staging', '--dry-run']);
    expect(result.exitCode, result.stderr).toBe(0);
    const steps = result.stdout.slice(result.stdout.indexOf('steps:'));
    expect(steps).toContain('pre hook (a failure stops the deploy, nothing changed): touch global-pre-ran');
    expect(steps).toContain('post hook (a failure rolls the deploy back): touch remote-post-ran');
    expect(steps).toContain('health check: GET http://127.0.0.1:9/health until it answers 200 (at most 5 s');
    expect(steps.indexOf('global-pre-ran')).toBeLessThan(steps.indexOf('back up'));
    expect(steps.indexOf('swap:')).toBeLessThan(steps.indexOf('remote-post-ran'));
    const json = parseJson<{ plan: { hooks: { pre: string[]; post: string[]; healthCheck: { url: string; expectedStatus: number } } } }>(
      await cli(project, ['--json', 'deploy', '--remote', 'staging', '--dry-run']),
    );
    expect(json.plan.hooks).toMatchObject({ pre: ['touch global-pre-ran'], post: ['touch remote-post-ran'], healthCheck: { url: 'http://127.0.0.1:9/health', expectedStatus: 200 } });
    for (const file of ['global-pre-ran', 'remote-post-ran']) expect(existsSync(path.join(project.dir, file))).toBe(false);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(existsSync(path.join(project.dir, '.dbfast', 'history'))).toBe(false);
  });

  it('never prints a password', () => {
    expectNoPasswordLeak(passwords, []);
  });
});
