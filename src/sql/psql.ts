import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { toolPath } from '../pg/tools.js';
import { silentLogger } from '../logger.js';
import { scrub } from '../pg/client.js';
import { childEnv } from '../pg/target.js';
import { checkFile } from './plan.js';
import { psqlFailure } from './psql-errors.js';
import { repositoryRootOf } from './source.js';
import type { RunFilesOptions, RunFilesResult, SqlFile } from './types.js';

const PSQL_ARGS = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose', '--no-psqlrc'];

/** psql's quoting for a meta-command argument: '...' with '' and backslash escapes (a value may hold any character). */
function slashQuote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''").replaceAll('\n', '\\n').replaceAll('\r', '\\r')}'`;
}

/**
 * What psql is told to run for a file. With variables: a small script of `\set` lines and a
 * `\i` of the file, written for this run only (mode 0600, removed after), so values never appear
 * in psql's argv where other users of the machine could read them.
 */
async function entryFile(absolutePath: string, variables: Record<string, string>): Promise<{ file: string; done: () => Promise<void> }> {
  const names = Object.keys(variables);
  if (names.length === 0) return { file: absolutePath, done: async () => undefined };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbfast-psql-'));
  const file = path.join(dir, 'run.psql');
  const lines = names.map((name) => `\\set ${name} ${slashQuote(variables[name] as string)}`);
  lines.push(`\\i ${slashQuote(absolutePath)}`);
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return { file, done: () => rm(dir, { recursive: true, force: true }) };
}

/** Reads every file (and its includes) before psql runs any: refuses what would build the wrong database; counts statements. */
async function checkAll(files: SqlFile[], options: RunFilesOptions): Promise<{ statements: number; copyRows: number }> {
  let statements = 0;
  let copyRows = 0;
  const first = files[0];
  const root = options.root ?? (first ? repositoryRootOf(path.resolve(first.absolutePath), first.relativePath) : process.cwd());
  for (const file of files) {
    await checkFile(file, { runner: 'psql', serverWide: options.serverWide ?? 'allow', root, chunkBytes: options.chunkBytes }, undefined, async (steps) => {
      for (const step of steps) {
        if (step.kind === 'variable') continue;
        statements++;
        if (step.kind !== 'copy') continue;
        let last = 10;
        for await (const piece of step.data) {
          for (let at = piece.indexOf(10); at >= 0; at = piece.indexOf(10, at + 1)) copyRows++;
          last = piece[piece.length - 1] ?? last;
        }
        if (last !== 10) copyRows++;
      }
      return true;
    });
  }
  return { statements, copyRows };
}

/** Runs each file with `psql -f`, for scripts that need psql itself (`\set`, `\if`, `\copy`, ...). */
export async function runFilesWithPsql(files: SqlFile[], options: RunFilesOptions): Promise<RunFilesResult> {
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  const psql = toolPath('psql', options.pgBinDir);
  const { statements, copyRows } = await checkAll(files, options);
  for (const [index, file] of files.entries()) {
    logger.progress({ phase: 'sql', done: index, total: files.length, unit: 'files', detail: file.relativePath });
    const absolutePath = path.resolve(file.absolutePath);
    // cwd = the file's folder, so `\i other.sql` resolves as it does in-process.
    const cwd = path.dirname(absolutePath);
    const entry = await entryFile(absolutePath, options.variables ?? {});
    let result;
    try {
      result = await execa(psql, [...PSQL_ARGS, '-f', entry.file, '--dbname', options.target.url], {
        env: childEnv(options.target),
        cwd,
        reject: false,
        stdin: 'ignore',
        stdout: 'ignore',
        stderr: 'pipe',
      });
    } finally {
      await entry.done();
    }
    const stderr = scrub(result.stderr ?? '', options.target);
    if (result.exitCode !== 0) throw await psqlFailure(file, cwd, stderr, { exitCode: result.exitCode, code: result.code }, { target: options.target, variables: options.variables ?? {} });
    for (const line of stderr.split('\n')) if (line.trim()) logger.debug(line);
  }
  logger.progress({ phase: 'sql', done: files.length, total: files.length, unit: 'files' });
  return { files: files.length, statements, copyRows, roundTrips: 0, durationMs: Math.round(performance.now() - started) };
}

