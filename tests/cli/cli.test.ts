import type { DbfastErrorJson } from '../../src/errors.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, parseJson, runCli } from '../support/cli.js';
import { tempDir, writeTree } from '../support/files.js';

interface JsonError {
  error: DbfastErrorJson;
}

const BAD_TOML = `
[database]
template_name = 42
foo = "bar"

[environments.local]
include_directories = "0_schema"
`;

describe('dbfast CLI basics', () => {
  it('--help lists every command group of the product', async () => {
    const result = await runCli(['--help']);
    expect(result.exitCode).toBe(0);
    const commands = result.stdout.split('Commands:')[1] ?? '';
    for (const group of ['init', 'environments', 'validate-env', 'build', 'seed', 'status', 'list', 'drop', 'remote', 'deploy', 'rollback', 'backup', 'migrate', 'history', 'server']) {
      expect(commands, group).toMatch(new RegExp(`^  ${group}\\b`, 'm'));
    }
    for (const flag of ['--config', '--json', '--verbose', '--no-color']) expect(result.stdout).toContain(flag);
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result).toMatchObject({ exitCode: 0, stdout: `${version}\n` });
  });

  it('exits 2 on an unknown command or option, as JSON with --json', async () => {
    const unknown = await runCli(['frobnicate']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const json = await runCli(['frobnicate', '--json']);
    expect(json.exitCode).toBe(2);
    expect(parseJson<JsonError>(json)).toEqual({ error: { code: 'USAGE', message: expect.stringContaining('frobnicate'), hint: expect.any(String), exitCode: 2, details: {} } });
    expect(json.stderr).toBe('');
    const option = await runCli(['environments', '--frob']);
    expect(option.exitCode).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--frob'/);
  });
});

describe('dbfast CLI and dbfast.toml', () => {
  it('exits 2 with a hint to run dbfast init when no dbfast.toml is anywhere up the tree', async () => {
    const dir = tempDir();
    const human = await runCli(['environments'], { cwd: dir, env: { DBFAST_CONFIG: undefined } });
    expect(human.exitCode).toBe(2);
    expect(human.stderr).toContain(`error: no dbfast.toml in ${dir} or any folder above it`);
    expect(human.stderr).toMatch(/hint: .*dbfast init/);
    const json = await runCli(['environments', '--json'], { cwd: dir, env: { DBFAST_CONFIG: undefined } });
    expect(json.exitCode).toBe(2);
    expect(parseJson<JsonError>(json).error).toEqual({ code: 'CONFIG_NOT_FOUND', message: expect.any(String), hint: expect.stringContaining('dbfast init'), exitCode: 2, details: {} });
  });

  it('exits 2 naming each bad key path of a dbfast.toml with a wrong type and an unknown key', async () => {
    const dir = writeTree(tempDir(), { 'dbfast.toml': BAD_TOML });
    const human = await runCli(['environments'], { cwd: dir });
    expect(human.exitCode).toBe(2);
    expect(human.stderr).toContain('database.template_name: expected string, received integer');
    expect(human.stderr).toContain('database.foo: unknown key');
    expect(human.stderr).toContain('environments.local.include_directories: expected array, received string');
    const json = await runCli(['--json', 'validate-env'], { cwd: dir });
    expect(json.exitCode).toBe(2);
    expect(parseJson<JsonError>(json).error).toMatchObject({
      code: 'CONFIG_INVALID',
      details: { problems: [
        'database.template_name: expected string, received integer',
        'database.foo: unknown key',
        'environments.local.include_directories: expected array, received string',
      ] },
    });
  });

  it('names file:line of a TOML syntax error', async () => {
    const dir = writeTree(tempDir(), { 'dbfast.toml': '[database]\n\ntemplate_name = "a" "b"\n' });
    const result = await runCli(['environments'], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${path.join(dir, 'dbfast.toml')}:3:`);
  });

  it('--config dbfast.toml.example environments lists the example environments', async () => {
    const human = await runCli(['--config', 'dbfast.toml.example', 'environments'], { cwd: PROJECT_ROOT });
    expect(human.exitCode).toBe(0);
    expect(human.stdout.trimEnd().split('\n').map((line) => line.trim().split(/\s+/))).toEqual([
      ['ENVIRONMENT', 'FILES', 'PRODUCTION'],
      ['local', '6'],
      ['test', '5'],
      ['production', '4', 'yes'],
    ]);
    const json = await runCli(['--config', 'dbfast.toml.example', 'environments', 'list', '--json']);
    expect(parseJson(json)).toEqual({
      environments: [
        { name: 'local', files: 6, production: false },
        { name: 'test', files: 5, production: false },
        { name: 'production', files: 4, production: true },
      ],
    });
  });

  it('--config works from another folder, and NO_COLOR / --no-color output stays plain', async () => {
    const dir = tempDir();
    const result = await runCli(['--no-color', '-c', path.join(PROJECT_ROOT, 'dbfast.toml.example'), 'environments', 'show', 'test'], { cwd: dir });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stdout).toContain('environment test: 5 files');
  });
});
