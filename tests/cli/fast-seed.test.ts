import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseFastSeed } from '../../src/cli/fast-seed.js';
import { buildProgram } from '../../src/cli/main.js';
import { parseJson, runCli } from '../support/cli.js';
import { databasesLike, local, query, urlFor } from '../support/db.js';
import { makeProject } from '../support/project.js';

/** What commander hands the seed handler for these arguments (or the error it stops with). */
async function commanderSeed(args: string[]): Promise<{ options: Record<string, unknown>; globals: Record<string, unknown> } | 'error'> {
  const program = buildProgram();
  let captured: { options: Record<string, unknown>; globals: Record<string, unknown> } | undefined;
  const silence = (command: Command): void => {
    command.exitOverride();
    command.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    command.commands.forEach(silence);
  };
  silence(program);
  const seed = program.commands.find((command) => command.name() === 'seed') as Command;
  seed.action((_options: unknown, command: Command) => {
    captured = { options: command.opts(), globals: command.optsWithGlobals() };
  });
  try {
    await program.parseAsync(['node', 'dbfast', ...args]);
  } catch {
    return 'error';
  }
  return captured ?? 'error';
}

const ACCEPTED = [
  ['seed', '--output', 'app_dev'],
  ['seed', '-o', 'app_dev'],
  ['seed', '--output=app_dev'],
  ['--json', 'seed', '-o', 'x'],
  ['seed', '-o', 'x', '--json'],
  ['-c', 'other.toml', 'seed', '-o', 'x', '--env', 'test', '--force', '--rebuild'],
  ['--config=seed', 'seed', '-e', 'local', '-o', 'x', '-v', '--no-color'],
  ['seed', '--env=ci', '--verbose', '--output', 'x', '--config', 'a/b.toml'],
];

const FALLBACK = [
  ['seed'],
  ['seed', '--help'],
  ['seed', '-h', '-o', 'x'],
  ['--version'],
  ['seed', '-o'],
  ['seed', '-o', '--json'],
  ['seed', '-ox'],
  ['seed', '-o', 'x', '-o', 'y'],
  ['seed', '-o', 'x', '--force', '--force'],
  ['--force', 'seed', '-o', 'x'],
  ['seed', '-o', 'x', 'extra'],
  ['seed', '-o', 'x', '--runner', 'psql'],
  ['seed', '--force=yes', '-o', 'x'],
  ['build'],
  ['status', 'seed'],
  ['seed', '-o', 'x', '--'],
  ['seed', '--output='],
];

describe('the fast seed path', () => {
  it('parses exactly what commander parses for the everyday forms', async () => {
    for (const args of ACCEPTED) {
      const fast = parseFastSeed(args);
      const parsed = await commanderSeed(args);
      expect(fast, args.join(' ')).toBeDefined();
      expect(parsed, args.join(' ')).not.toBe('error');
      if (!fast || parsed === 'error') continue;
      expect(fast.options, args.join(' ')).toEqual(parsed.options);
      const { config, json, verbose, color } = parsed.globals;
      expect(fast.globals, args.join(' ')).toEqual(Object.fromEntries(Object.entries({ config, json, verbose, color }).filter(([, value]) => value !== undefined)));
    }
  });

  it('leaves everything else to commander', () => {
    for (const args of FALLBACK) expect(parseFastSeed(args), args.join(' ')).toBeUndefined();
  });

  it('seeds through the fast path with --config, --env, --force from another folder', async () => {
    const project = makeProject();
    const name = `${project.templateName}_c_fast`;
    const args = ['--config', project.configPath, 'seed', `--output=${name}`, '--env', 'local'];
    expect(parseFastSeed(args)).toBeDefined();
    const first = await runCli(args, { env: { DBFAST_CONFIG: undefined } });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`/${name}(\\?|\\n)`));
    await query(urlFor(local.adminUrl, name), 'CREATE TABLE marker (id int)');
    const again = await runCli([...args, '--force', '--json'], { env: { DBFAST_CONFIG: undefined } });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(parseJson(again)).toMatchObject({ database: name, rebuilt: false });
    // --force replaced the database: the table made in the first clone is gone.
    expect(await query(urlFor(local.adminUrl, name), "SELECT count(*)::int AS n FROM pg_class WHERE relname = 'marker'")).toEqual([{ n: 0 }]);
    expect(await databasesLike(local, name)).toEqual([name]);
  });

  it('forms it does not take still work, through commander', async () => {
    const project = makeProject();
    const name = `${project.templateName}_c_slow`;
    const args = ['seed', `-o${name}`];
    expect(parseFastSeed(args)).toBeUndefined();
    const result = await runCli(args, { cwd: project.dir, env: { DBFAST_CONFIG: undefined } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await databasesLike(local, name)).toEqual([name]);
    const help = await runCli(['seed', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: dbfast seed [options]');
    const missing = await runCli(['--json', 'seed']);
    expect(missing.exitCode).toBe(2);
    expect(parseJson<{ error: { code: string; message: string } }>(missing).error).toMatchObject({ code: 'USAGE', message: expect.stringContaining('--output') });
  });
});
