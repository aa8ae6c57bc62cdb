import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import type { DbfastErrorJson } from '../../src/errors.js';
import { buildProgram } from '../../src/cli/main.js';
import { parseJson, runCli } from '../support/cli.js';
import { cli } from '../support/backup.js';
import { FIRST, json, productionProject, writeMigration } from '../support/migrate.js';
import { makeProject } from '../support/project.js';

interface JsonError {
  error: DbfastErrorJson;
}

/** Every command of the program with its full name (`dbfast backup list`), leaves and groups. */
function allCommands(command: Command, prefix = 'dbfast'): Array<{ name: string; command: Command }> {
  return command.commands.flatMap((sub) => {
    const name = `${prefix} ${sub.name()}`;
    return [{ name, command: sub }, ...allCommands(sub, name)];
  });
}

const longName = (option: Option): string => option.long ?? '';

describe('option values are checked before anything runs', () => {
  const bad: Array<{ args: string[]; flag: string }> = [
    { args: ['deploy', 'staging', '-j', 'abc'], flag: "'-j, --jobs <n>'" },
    { args: ['deploy', 'staging', '--jobs', '0'], flag: "'-j, --jobs <n>'" },
    { args: ['deploy', 'staging', '--lock-timeout', 'soon'], flag: "'--lock-timeout <seconds>'" },
    { args: ['deploy', 'staging', '--mode', 'overwrite'], flag: "'--mode <mode>'" },
    { args: ['rollback', '-r', 'staging', '--lock-timeout', '-5'], flag: "'--lock-timeout <seconds>'" },
    { args: ['history', '-r', 'staging', '--limit', '2.5'], flag: "'--limit <n>'" },
    { args: ['stats', '--days', 'week'], flag: "'--days <n>'" },
    { args: ['migrate', 'history', '-r', 'staging', '--limit', 'all'], flag: "'--limit <n>'" },
    { args: ['backup', 'create', '-r', 'staging', '--compression', 'rar'], flag: "'--compression <kind>'" },
    { args: ['backup', 'restore', '-r', 'staging', '--backup-id', 'x', '-j', 'two'], flag: "'-j, --jobs <n>'" },
    { args: ['backup', 'prune', '-r', 'staging', '--keep', '-1'], flag: "'--keep <n>'" },
    { args: ['backup', 'prune', '-r', 'staging', '--older-than', '3 months'], flag: "'--older-than <age>'" },
    { args: ['build', '--runner', 'bash'], flag: "'--runner <runner>'" },
    { args: ['webhook', 'events', '--limit', 'x'], flag: "'--limit <n>'" },
  ];
  it.each(bad)('$args.0 $args.1 ... names $flag and exits 2 (also as JSON)', async ({ args, flag }) => {
    const dir = makeProject().dir;
    const human = await runCli(args, { cwd: dir });
    expect(human.exitCode, human.stderr).toBe(2);
    expect(human.stderr).toContain(`error: option ${flag} argument`);
    expect(human.stderr).toMatch(/\nhint: Run `dbfast .*--help` for usage\.\n$/);
    const asJson = await runCli(['--json', ...args], { cwd: dir });
    expect(asJson.exitCode).toBe(2);
    expect(asJson.stderr).toBe('');
    expect(parseJson<JsonError>(asJson).error).toMatchObject({ code: 'USAGE', exitCode: 2, message: expect.stringContaining(`option ${flag} argument`) });
  });

  it('--backup-before (the default, spelled out) does not go with --skip-backup', async () => {
    const result = await runCli(['--json', 'deploy', 'staging', '--backup-before', '--skip-backup'], { cwd: makeProject().dir });
    expect(result.exitCode).toBe(2);
    expect(parseJson<JsonError>(result).error.message).toMatch(/--backup-before.*cannot be used with option '--skip-backup'/);
  });
});

describe('flags are spelled the same on every command', () => {
  const commands = allCommands(buildProgram());

  it('--remote is -r, --env is -e, --confirm goes with -y everywhere', () => {
    const spelled = new Map<string, Set<string>>();
    for (const { name, command } of commands) {
      for (const option of command.options) {
        const long = longName(option);
        if (!['--remote', '--env', '--yes', '--lock-timeout', '--jobs'].includes(long)) continue;
        spelled.set(long, (spelled.get(long) ?? new Set()).add(option.flags));
        if (long === '--remote' || long === '--env' || long === '--jobs') expect(option.short, `${name} ${long}`).toBeDefined();
      }
      const longs = command.options.map(longName);
      if (longs.includes('--confirm') && name !== 'dbfast backup prune') expect(longs, `${name} takes --confirm`).toContain('--yes');
    }
    expect(Object.fromEntries([...spelled].map(([long, flags]) => [long, [...flags]]))).toEqual({
      '--remote': ['-r, --remote <name>'],
      '--env': ['-e, --env <name>'],
      '--yes': ['-y, --yes'],
      '--lock-timeout': ['--lock-timeout <seconds>'],
      '--jobs': ['-j, --jobs <n>'],
    });
  });

  it("every command's --help lists the global --json and --config; init --help speaks of --repo-dir, not a DIR argument", async () => {
    for (const args of [['backup', 'list', '--help'], ['migrate', 'apply', '--help'], ['seed', '--help'], ['remote', 'test', '--help']]) {
      const help = await runCli(args);
      expect(help.exitCode).toBe(0);
      expect(help.stdout, args.join(' ')).toMatch(/Global Options:[\s\S]*-c, --config <path>[\s\S]*--json/);
    }
    const init = await runCli(['init', '--help']);
    expect(init.stdout).toContain('--repo-dir <dir>');
    expect(init.stdout).not.toMatch(/\bDIR\b/);
  });

  it('remote test and remote remove take --name NAME as well as NAME, but not two different names', async () => {
    const dir = makeProject().dir;
    const byFlag = await runCli(['--json', 'remote', 'test', '--name', 'nope'], { cwd: dir });
    expect(byFlag.exitCode).toBe(2);
    expect(parseJson<JsonError>(byFlag).error).toMatchObject({ code: 'REMOTE_UNKNOWN', message: expect.stringContaining('"nope"') });
    const both = await runCli(['--json', 'remote', 'test', 'one', '--name', 'other'], { cwd: dir });
    expect(parseJson<JsonError>(both).error).toMatchObject({ code: 'USAGE', message: 'two remotes given: "one" and --name "other"' });
    const removed = await runCli(['--json', 'remote', 'remove', '--name', 'nope'], { cwd: dir });
    expect(parseJson<JsonError>(removed).error.code).toBe('REMOTE_UNKNOWN');
  });
});

describe('migrate history --limit, and migration as another name for migrate', () => {
  it('shows only the newest N recorded migrations, oldest first', async () => {
    const { project } = await productionProject({ prefix: 'mhl', remote: { backup: false } });
    const second = writeMigration(project, '002_a.sql', 'CREATE TABLE app.a (id int);\n');
    await json(project, ['migrate', 'apply', '-r', 'production', '--confirm']);
    const all = await json<{ migrations: Array<{ id: string }> }>(project, ['migration', 'history', '-r', 'production']);
    expect(all.body.migrations.map((m) => m.id)).toEqual([FIRST, second]);
    const last = await json<{ migrations: Array<{ id: string }> }>(project, ['migration', 'history', '-r', 'production', '--limit', '1']);
    expect(last.body.migrations.map((m) => m.id)).toEqual([second]);
    const text = await cli(project, ['migrate', 'history', '--remote', 'production', '--limit', '1']);
    expect(text.stdout).toMatch(new RegExp(`success\\s+${second}`));
    expect(text.stdout).not.toContain(FIRST);
  });
});
