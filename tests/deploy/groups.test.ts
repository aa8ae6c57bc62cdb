import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DbfastErrorJson } from '../../src/errors.js';
import { parseJson } from '../support/cli.js';
import { query } from '../support/db.js';
import { asAccount, cli, createRemoteAccount, expectNoPasswordLeak, type RemoteAccount } from '../support/backup.js';
import { snapshot, writeDeployProject, type DeployProject } from '../support/deploy.js';
import { databaseExists, healthServer, hookCalls, writeRecordScript } from '../support/hooks.js';
import { columnExists, FIRST, migrationRows, productionProject } from '../support/migrate.js';

interface GroupJson {
  name: string;
  order: number;
  status: string;
  reason: string | null;
  files: string[];
  commands: string[];
}

interface ReportJson {
  groups: GroupJson[];
  warnings: string[];
  notes: string[];
  phases: Array<{ name: string }>;
}

interface HistoryJson {
  deploys: Array<{ result: string; notes: string[]; hooksOutput: string | null; phases: Array<{ name: string }> }>;
}

interface ErrorJson {
  error: DbfastErrorJson;
}

const passwords: string[] = [];

/** Writes files under the project folder and appends `[[deploy.groups]]` tables to its dbfast.toml. */
function addGroups(project: DeployProject, files: Record<string, string>, groupsToml: string): void {
  for (const [relative, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(project.dir, relative)), { recursive: true });
    writeFileSync(path.join(project.dir, relative), text);
  }
  appendFileSync(path.join(project.dir, 'dbfast.toml'), `\n${groupsToml}\n`);
}

const GROUP_FILES = {
  'deploy/grants.sql': 'CREATE TABLE app.group_log (id serial PRIMARY KEY, step text NOT NULL);\nINSERT INTO app.group_log (step) VALUES (\'grants-sql\');\n',
  'deploy/fixes/010_first.sql': "INSERT INTO app.group_log (step) VALUES ('fixes-sql');\n",
  'deploy/fixes/020_second.sql': "UPDATE app.product SET price = price + 1;\nINSERT INTO app.group_log (step) VALUES ('fixes-sql-2');\n",
  'deploy/broken.sql': "-- a data fix with a typo in it\nINSERT INTO app.group_log (step) VALUES ('broken-sql');\nINSERT INTO app.no_such_table VALUES (1);\n",
};

// Written out of order on purpose: `order` decides (grants 10, fixes 20, broken 30, after 40).
const GROUPS_TOML = `
[[deploy.groups]]
name = "fixes"
order = 20
files = ["deploy/fixes/*.sql"]
pre = ["sh record.sh fixes-pre"]
commands = ['''psql -X -q -c "insert into app.group_log (step) values ('$DBFAST_GROUP-command')" "$DATABASE_URL"''']
post = ["sh record.sh fixes-post"]

[[deploy.groups]]
name = "grants"
order = 10
files = ["deploy/grants.sql"]
pre = ["sh record.sh grants-pre"]

[[deploy.groups]]
name = "broken"
order = 30
files = ["deploy/broken.sql"]

[[deploy.groups]]
name = "after"
order = 40
# Every process's argv while psql is connected through DATABASE_URL (dbfast's own and psql's included): the password must be in none.
commands = ["touch after-ran", '''psql -X -q -c '\\! cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\000" "\\n" > argv-snapshot' "$DATABASE_URL"''']
`;

async function groupsProject(account: RemoteAccount, groupsToml = GROUPS_TOML): Promise<DeployProject> {
  const project = writeDeployProject([{ name: 'staging', account, deploy: { post: ['sh record.sh remote-post'] } }]);
  writeRecordScript(project.dir);
  addGroups(project, GROUP_FILES, groupsToml);
  return project;
}

async function groupLog(account: RemoteAccount): Promise<string[]> {
  return (await query<{ step: string }>(account.adminDbUrl, 'SELECT step FROM app.group_log ORDER BY id')).map((row) => row.step);
}

describe('deploy groups', { timeout: 300_000 }, () => {
  it('run after the database step in `order`, before the post hooks: files in one transaction, then commands, with pre/post around them', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'grp' });
    passwords.push(account.password);
    const project = await groupsProject(account);

    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--skip-group', 'broken']);
    expect(result.exitCode, result.stdout).toBe(0);
    const report = parseJson<ReportJson>(result);
    expect(report.groups.map((g) => [g.name, g.status])).toEqual([['grants', 'succeeded'], ['fixes', 'succeeded'], ['broken', 'skipped'], ['after', 'succeeded']]);
    expect(report.groups[1]?.files).toEqual(['deploy/fixes/010_first.sql', 'deploy/fixes/020_second.sql']);
    const phases = report.phases.map((p) => p.name);
    expect(phases.slice(phases.indexOf('verify'))).toEqual(['verify', 'group:grants', 'group:fixes', 'group:after', 'post-hooks']);
    expect(await groupLog(account)).toEqual(['grants-sql', 'fixes-sql', 'fixes-sql-2', 'fixes-command']);
    expect((await query(account.adminDbUrl, 'SELECT sum(price)::text AS total FROM app.product'))[0]).toEqual({ total: '59.65' });
    expect(existsSync(path.join(project.dir, 'after-ran'))).toBe(true);
    const argv = readFileSync(path.join(project.dir, 'argv-snapshot'), 'utf8');
    expect(argv).toContain('bin/dbfast.js');
    expect(argv).toContain(`/${account.database}`);
    expect(argv.includes(account.password), 'the password is in some process argv').toBe(false);
    const calls = hookCalls(project.dir);
    expect(calls.map((c) => c.label)).toEqual(['grants-pre', 'fixes-pre', 'fixes-post', 'remote-post']);
    for (const call of calls) {
      // The remote's URL without the password; the password only in PGPASSWORD.
      expect(new URL(call.url).password).toBe('');
      expect(new URL(call.url).pathname).toBe(`/${account.database}`);
      expect(readFileSync(path.join(project.dir, `pw-${call.label}`), 'utf8')).toBe(account.password);
    }
    expect(report.notes).toEqual(['--skip-group: broken not run']);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.result).toBe('success');
    expect(history.deploys[0]?.notes).toEqual(['--skip-group: broken not run']);
    expect(history.deploys[0]?.hooksOutput).toContain('[group grants pre] $ sh record.sh grants-pre\n');
    expect(history.deploys[0]?.hooksOutput).toContain('[group fixes] ran 2 SQL files (3 statements) in one transaction\n');

    const human = await cli(project, ['deploy', '--remote', 'staging', '--skip-group', 'broken']);
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stderr).toContain('[group fixes pre] hello from fixes-pre');
    expect(human.stdout).toContain('group grants: ok in');
    expect(human.stdout).toContain('group broken: skipped (--skip-group)');
  });

  it('a failing group rolls the deploy back like a failing post hook, naming file:line:column; --continue-on-failure goes on', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'grpfail' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (7)');
    const before = snapshot(account.adminDbUrl);
    const project = await groupsProject(account);

    const result = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(result.exitCode).toBe(1);
    const error = parseJson<ErrorJson>(result).error;
    expect(error.code).toBe('GROUP_FAILED');
    expect(error.message).toContain('deploy group "broken" failed (files): deploy/broken.sql:3:13: relation "app.no_such_table" does not exist');
    expect(error.message).toContain('Rolled back');
    expect(error.hint).toBe('The output is above and in `dbfast history`; fix the group, then deploy again (--skip-group broken deploys without it; --continue-on-failure keeps the deploy when a group fails).');
    expect(error.details).toMatchObject({ rolledBack: true, group: 'broken', stage: 'files', sql: { file: 'deploy/broken.sql', line: 3, column: 13 } });
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(await databaseExists(`${account.database}__dbfast_prev`)).toBe(false);
    expect(existsSync(path.join(project.dir, 'after-ran'))).toBe(false);
    expect(hookCalls(project.dir).map((c) => c.label)).toEqual(['grants-pre', 'fixes-pre', 'fixes-post']);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.result).toBe('rolled_back');
    expect(history.deploys[0]?.phases.map((p) => p.name).slice(-2)).toEqual(['group:broken', 'rollback']);

    const kept = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--continue-on-failure']);
    expect(kept.exitCode, kept.stdout).toBe(0);
    const report = parseJson<ReportJson>(kept);
    expect(report.groups.map((g) => [g.name, g.status])).toEqual([['grants', 'succeeded'], ['fixes', 'succeeded'], ['broken', 'failed'], ['after', 'succeeded']]);
    expect(report.groups[2]?.reason).toMatch(/^files: deploy\/broken.sql:3:13: relation "app.no_such_table" does not exist/);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toContain('--continue-on-failure');
    // The failed group's SQL ran in one transaction: none of it stayed.
    expect(await groupLog(account)).toEqual(['grants-sql', 'fixes-sql', 'fixes-sql-2', 'fixes-command']);
    expect(existsSync(path.join(project.dir, 'after-ran'))).toBe(true);
    const after = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(after.deploys[0]?.result).toBe('success');
    expect(after.deploys[0]?.notes).toEqual(['group broken failed and the deploy went on (--continue-on-failure)']);
  });

  it('--group / --skip-group select; an unknown group or a glob that matches nothing is refused before anything changes', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'grpsel' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const before = snapshot(account.adminDbUrl);
    const project = await groupsProject(account);

    const unknown = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--group', 'grants', '--group', 'nope']);
    expect(unknown.exitCode).toBe(2);
    const error = parseJson<ErrorJson>(unknown).error;
    expect(error.code).toBe('GROUP_UNKNOWN');
    expect(error.message).toContain('"nope"');
    expect(error.hint).toBe('Deploy groups: grants, fixes, broken, after.');
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(existsSync(path.join(project.dir, '.dbfast', 'history'))).toBe(false);

    const only = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--group', 'grants', '--group', 'after']);
    expect(only.exitCode, only.stdout).toBe(0);
    const report = parseJson<ReportJson>(only);
    expect(report.groups.map((g) => [g.name, g.status, g.reason])).toEqual([
      ['grants', 'succeeded', null],
      ['fixes', 'skipped', 'not named by --group'],
      ['broken', 'skipped', 'not named by --group'],
      ['after', 'succeeded', null],
    ]);
    expect(await groupLog(account)).toEqual(['grants-sql']);
    expect(report.notes).toEqual(['--group: only grants, after']);

    const missing = await groupsProject(account, `${GROUPS_TOML}\n[[deploy.groups]]\nname = "typo"\nfiles = ["deploy/grant.sql"]\n`);
    const refused = await cli(missing, ['--json', 'deploy', '--remote', 'staging']);
    expect(refused.exitCode).toBe(2);
    expect(parseJson<ErrorJson>(refused).error).toMatchObject({ code: 'GROUP_FILES_MISSING', details: { group: 'typo', glob: 'deploy/grant.sql' } });
    expect(existsSync(path.join(missing.dir, '.dbfast', 'history'))).toBe(false);
  });

  it("checks a group's required_env before anything connects; --skip-validation skips only that check and says so in the history", async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'grpenv' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account }]);
    addGroups(project, { 'deploy/grants.sql': GROUP_FILES['deploy/grants.sql'] }, '[[deploy.groups]]\nname = "grants"\nfiles = ["deploy/grants.sql"]\nrequired_env = ["DBFAST_TEST_GROUP_TOKEN"]\ncommands = ["touch grants-ran"]\n');

    const refused = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(refused.exitCode).toBe(2);
    expect(parseJson<ErrorJson>(refused).error).toMatchObject({ code: 'REQUIRED_ENV_MISSING', details: { missing: ['DBFAST_TEST_GROUP_TOKEN'] } });
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(existsSync(path.join(project.dir, 'grants-ran'))).toBe(false);

    const skipped = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--skip-validation']);
    expect(skipped.exitCode, skipped.stdout).toBe(0);
    expect(parseJson<ReportJson>(skipped).notes).toEqual(['--skip-validation: required variables were not checked (not set: DBFAST_TEST_GROUP_TOKEN)']);
    expect(existsSync(path.join(project.dir, 'grants-ran'))).toBe(true);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'staging']));
    expect(history.deploys[0]?.notes).toEqual(['--skip-validation: required variables were not checked (not set: DBFAST_TEST_GROUP_TOKEN)']);
    const text = await cli(project, ['history', '--remote', 'staging']);
    expect(text.stdout).toContain('--skip-validation: required variables were not checked');
  });

  it("a group's failing health check rolls back; --no-health-check does not ask", async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'grphc' });
    passwords.push(account.password);
    await asAccount(account, 'CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (1)');
    const before = snapshot(account.adminDbUrl);
    const down = await healthServer(503);
    const project = writeDeployProject([{ name: 'staging', account }]);
    addGroups(project, {}, `[[deploy.groups]]\nname = "app"\ncommands = ["true"]\nhealth_check = { url = "${down.url}", timeout_seconds = 2 }\n`);

    const failed = await cli(project, ['--json', 'deploy', '--remote', 'staging']);
    expect(failed.exitCode).toBe(1);
    const error = parseJson<ErrorJson>(failed).error;
    expect(error).toMatchObject({ code: 'GROUP_FAILED', details: { stage: 'health', rolledBack: true } });
    expect(error.message).toContain('answered 503, expected 200');
    expect(snapshot(account.adminDbUrl)).toBe(before);
    const asked = down.requests();
    expect(asked).toBeGreaterThan(0);

    const unchecked = await cli(project, ['--json', 'deploy', '--remote', 'staging', '--no-health-check']);
    expect(unchecked.exitCode, unchecked.stdout).toBe(0);
    expect(parseJson<ReportJson>(unchecked).notes).toEqual(['--no-health-check: health checks were not run']);
    expect(down.requests()).toBe(asked);
  });

  it('a dry run lists the groups and what each would run, and runs none', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'grpdry' });
    passwords.push(account.password);
    const before = snapshot(account.adminDbUrl);
    const project = await groupsProject(account);
    const result = await cli(project, ['deploy', '--remote', 'staging', '--dry-run', '--skip-group', 'broken']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('groups:\n  run  grants (order 10): 1 SQL file, 0 commands\n  run  fixes (order 20): 2 SQL files, 1 command\n  skip broken (order 30): --skip-group\n  run  after (order 40): 0 SQL files, 2 commands');
    const steps = result.stdout.slice(result.stdout.indexOf('steps:'));
    expect(steps).toContain('group grants (order 10): pre: sh record.sh grants-pre; SQL in one transaction: deploy/grants.sql (a failure rolls the deploy back)');
    expect(steps).toContain('group fixes (order 20): pre: sh record.sh fixes-pre; SQL in one transaction: deploy/fixes/010_first.sql, deploy/fixes/020_second.sql; commands:');
    expect(steps).toContain('group broken: not run (--skip-group)');
    expect(steps.indexOf('swap:')).toBeLessThan(steps.indexOf('group grants'));
    expect(steps.indexOf('group after')).toBeLessThan(steps.indexOf('post hook'));
    const json = parseJson<{ plan: { groups: Array<{ name: string; selected: boolean; files: string[] }> }; groups: GroupJson[] }>(
      await cli(project, ['--json', 'deploy', '--remote', 'staging', '--dry-run']),
    );
    expect(json.plan.groups.map((g) => [g.name, g.selected, g.files.length])).toEqual([['grants', true, 1], ['fixes', true, 2], ['broken', true, 1], ['after', true, 0]]);
    expect(hookCalls(project.dir)).toEqual([]);
    expect(existsSync(path.join(project.dir, 'after-ran'))).toBe(false);
    expect(snapshot(account.adminDbUrl)).toBe(before);
    expect(existsSync(path.join(project.dir, '.dbfast', 'history'))).toBe(false);
  });

  it('in migrate mode run after the migrations; a failing group leaves them applied, as a failing post hook does', async () => {
    const { account, project } = await productionProject({ prefix: 'grpmig' });
    passwords.push(account.password);
    addGroups(project, { 'deploy/grants.sql': GROUP_FILES['deploy/grants.sql'] }, '[[deploy.groups]]\nname = "grants"\norder = 10\nfiles = ["deploy/grants.sql"]\n\n[[deploy.groups]]\nname = "smoke"\norder = 5\ncommands = ["exit 4"]\n');

    const failed = await cli(project, ['--json', 'deploy', '--remote', 'production', '--confirm']);
    expect(failed.exitCode).toBe(1);
    expect(parseJson<ErrorJson>(failed).error).toMatchObject({ code: 'GROUP_FAILED', details: { group: 'smoke', stage: 'commands' } });
    // The migration was applied before the groups ran, and stays.
    expect(await columnExists(account, 'app.customer', 'phone')).toBe(true);
    expect((await migrationRows(account)).map((row) => [row.id, row.status])).toEqual([[FIRST, 'success']]);
    expect((await query(account.adminDbUrl, "SELECT to_regclass('app.group_log') IS NULL AS absent"))[0]).toEqual({ absent: true });

    const ok = await cli(project, ['--json', 'deploy', '--remote', 'production', '--confirm', '--skip-group', 'smoke']);
    expect(ok.exitCode, ok.stdout).toBe(0);
    const report = parseJson<ReportJson & { mode: string; migrations: string[] }>(ok);
    expect(report).toMatchObject({ mode: 'migrate', migrations: [] });
    expect(report.groups.map((g) => [g.name, g.status])).toEqual([['smoke', 'skipped'], ['grants', 'succeeded']]);
    expect(report.phases.map((p) => p.name).slice(-2)).toEqual(['validate', 'group:grants']);
    expect(await groupLog(account)).toEqual(['grants-sql']);
    const history = parseJson<HistoryJson>(await cli(project, ['--json', 'history', '--remote', 'production']));
    expect(history.deploys.map((d) => d.result)).toEqual(['success', 'failed']);
  });

  it('never prints a password', () => {
    expectNoPasswordLeak(passwords, []);
  });
});
