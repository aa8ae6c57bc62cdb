import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { toolPath } from '../dump/tools.js';
import { DbfastError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { scrub } from '../pg/client.js';
import { childEnv } from '../pg/target.js';
import { doBlockLocation } from './locate.js';
import { sourceError, sqlError, type ServerErrorFields } from './sql-error.js';
import type { SqlStatement } from './items.js';
import { checkFile } from './plan.js';
import { SqlReader, type StreamedCopy } from './reader.js';
import { relativeToRoot, repositoryRootOf, type SourceFile, type SourceLocation } from './source.js';
import type { RunFilesOptions, RunFilesResult, SqlFile } from './types.js';

/** What psql printed about the error that stopped it (`-v VERBOSITY=verbose`, so the SQLSTATE is there). */
export interface PsqlErrorReport {
  file: string;
  /** psql's input line when the error came: the line of the statement's `;` (or of `\.` for COPY). */
  line: number;
  fields: ServerErrorFields;
  /** `LINE n: text` and its caret: the line inside the statement and the caret's column in the echoed text. */
  statementLine?: number;
  echo?: string;
  caretColumn?: number;
}

const HEAD = /^psql:(.+):(\d+): (ERROR|FATAL|PANIC|error):\s+(.*)$/;
const FIELD = /^(DETAIL|HINT|CONTEXT|QUERY|LOCATION|SCHEMA NAME|TABLE NAME|COLUMN NAME|DATA TYPE NAME|CONSTRAINT NAME|STATEMENT):\s+(.*)$/;

/** Parses psql's stderr for the first `psql:FILE:LINE: ERROR: ...` and the lines that belong to it. */
export function parsePsqlError(stderr: string): PsqlErrorReport | undefined {
  const lines = stderr.split(/\r?\n/);
  const at = lines.findIndex((line) => HEAD.test(line));
  if (at < 0) return undefined;
  const [, file, line, , rest] = HEAD.exec(lines[at] as string) as RegExpExecArray;
  const coded = /^([0-9A-Z]{5}): (.*)$/.exec(rest as string);
  const report: PsqlErrorReport = {
    file: file as string,
    line: Number(line),
    fields: { message: coded ? (coded[2] as string) : (rest as string), code: coded?.[1] },
  };
  let field: string | undefined;
  for (let i = at + 1; i < lines.length; i++) {
    const text = lines[i] as string;
    if (HEAD.test(text) || text.startsWith('psql:')) break;
    const echo = /^LINE (\d+): (.*)$/.exec(text);
    if (echo) {
      report.statementLine = Number(echo[1]);
      report.echo = echo[2];
      const caret = lines[i + 1]?.indexOf('^') ?? -1;
      if (caret >= 0) report.caretColumn = caret - `LINE ${echo[1]}: `.length + 1;
      i++;
      field = undefined;
      continue;
    }
    const match = FIELD.exec(text);
    if (match) {
      field = match[1];
      const value = match[2] as string;
      if (field === 'DETAIL') report.fields.detail = value;
      else if (field === 'HINT') report.fields.hint = value;
      else if (field === 'CONTEXT') report.fields.where = value;
      continue;
    }
    // Continuation of a multi-line field.
    if (field === 'DETAIL') report.fields.detail += `\n${text}`;
    else if (field === 'HINT') report.fields.hint += `\n${text}`;
    else if (field === 'CONTEXT') report.fields.where += `\n${text}`;
  }
  return report;
}

/** Where in the file psql's report points: its statement, the LINE/caret inside it, or the COPY data line. */
export async function locatePsqlReport(source: SourceFile, report: PsqlErrorReport): Promise<SourceLocation> {
  const reader = await SqlReader.open(source.absolutePath, source.buffer);
  try {
    for await (const item of reader.items()) {
      if (item.kind === 'copy') {
        for await (const piece of item.data) void piece;
        if (item.statement.line <= report.line && report.line <= (item.end?.endLine ?? item.statement.line)) return locateCopy(item, report);
      } else if (item.line <= report.line && report.line <= item.endLine) {
        return item.kind === 'meta' ? { line: item.line, column: item.column } : locateStatement(item, report);
      }
      if ((item.kind === 'copy' ? item.statement.line : item.line) > report.line) break;
    }
  } finally {
    await reader.close();
  }
  return { line: report.line, column: 1 };
}

function locateCopy(copy: StreamedCopy, report: PsqlErrorReport): SourceLocation {
  const dataLine = /\bCOPY [^,]*, line (\d+)/.exec(report.fields.where ?? '')?.[1];
  if (dataLine !== undefined) return { line: copy.dataLine + Number(dataLine) - 1, column: 1 };
  return locateStatement(copy.statement, report);
}

function locateStatement(statement: SqlStatement, report: PsqlErrorReport): SourceLocation {
  if (report.statementLine === undefined) {
    return doBlockLocation(statement, report.fields.where) ?? { line: statement.line, column: statement.column };
  }
  const line = statement.line + report.statementLine - 1;
  // The echoed line is the statement's own line; its first line starts at the statement's column.
  const lineOffset = report.statementLine === 1 ? statement.column - 1 : 0;
  let column = (report.caretColumn ?? 1) + lineOffset;
  if (report.echo !== undefined && report.caretColumn !== undefined) {
    // psql cuts long lines to a window with "..." around it: find the shown text in the real line.
    const cut = report.echo.startsWith('...') ? 3 : 0;
    const shown = report.echo.slice(cut).replace(/\.\.\.$/, '');
    const real = statement.text.split('\n')[report.statementLine - 1];
    const at = real === undefined ? -1 : real.indexOf(shown);
    if (real !== undefined && at >= 0) column = Array.from(real.slice(0, at)).length + report.caretColumn - cut + lineOffset;
  }
  return { line, column: Math.max(1, column) };
}

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
    if (result.exitCode !== 0) throw await psqlFailure(file, cwd, stderr, result.exitCode, result.code);
    for (const line of stderr.split('\n')) if (line.trim()) logger.debug(line);
  }
  logger.progress({ phase: 'sql', done: files.length, total: files.length, unit: 'files' });
  return { files: files.length, statements, copyRows, roundTrips: 0, durationMs: Math.round(performance.now() - started) };
}

async function psqlFailure(file: SqlFile, cwd: string, stderr: string, exitCode: number | undefined, code: string | undefined): Promise<DbfastError> {
  if (exitCode === undefined || code === 'ENOENT') {
    return new DbfastError('TOOL_MISSING', `cannot run psql for ${file.relativePath}: ${stderr.trim() || code || 'failed to start'}`, {
      hint: 'Install the PostgreSQL client tools (apt-get install postgresql-client) or set [tools] pg_bin_dir.',
      exitCode: 2,
    });
  }
  const report = parsePsqlError(stderr);
  if (report) {
    const absolute = path.resolve(cwd, report.file);
    const root = repositoryRootOf(path.resolve(file.absolutePath), file.relativePath);
    const readable = await access(absolute).then(() => true, () => false);
    const relativePath = absolute === path.resolve(file.absolutePath) ? file.relativePath : relativeToRoot(root, absolute);
    if (readable) {
      const source: SourceFile = { relativePath, absolutePath: absolute };
      if (report.fields.code === undefined) {
        return sourceError('SQL_PSQL_ERROR', source, report.line, `psql: ${report.fields.message}`, 'Fix the psql command on that line and run again.');
      }
      return sqlError(source, await locatePsqlReport(source, report), report.fields);
    }
  }
  return new DbfastError('SQL_PSQL_FAILED', `psql failed on ${file.relativePath} (exit ${exitCode}): ${stderr.trim().split('\n').slice(0, 5).join('\n')}`, {
    hint: 'Read psql\'s message above; check the connection and the file, then run again.',
    details: { file: file.relativePath, exitCode },
  });
}
