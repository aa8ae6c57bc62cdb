import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { toolPath } from '../pg/tools.js';
import { DbfastError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { scrub } from '../pg/client.js';
import { childEnv } from '../pg/target.js';
import { doBlockLocation } from './locate.js';
import { sourceError, sqlError, type ServerErrorFields } from './sql-error.js';
import { relativeToRoot, repositoryRootOf, type SourceFile, type SourceLocation } from './source.js';
import { splitSql, type SqlItem } from './split.js';
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

function itemRange(item: SqlItem): { start: number; end: number; item: SqlItem } {
  if (item.kind === 'copy') return { start: item.statement.line, end: item.endLine, item };
  return { start: item.line, end: item.endLine, item };
}

/** Where in the file psql's report points: its statement, the LINE/caret inside it, or the COPY data line. */
export function locatePsqlReport(source: SourceFile, report: PsqlErrorReport): SourceLocation {
  const ranges = splitSql(source.buffer).map(itemRange);
  const found = ranges.find((range) => range.start <= report.line && report.line <= range.end);
  if (!found) return { line: report.line, column: 1 };
  const { item } = found;
  if (item.kind === 'copy') {
    const dataLine = /\bCOPY [^,]*, line (\d+)/.exec(report.fields.where ?? '')?.[1];
    if (dataLine !== undefined) return { line: item.dataLine + Number(dataLine) - 1, column: 1 };
  }
  if (item.kind === 'meta') return { line: item.line, column: item.column };
  const statement = item.kind === 'copy' ? item.statement : item;
  if (report.statementLine === undefined) {
    return doBlockLocation(statement, report.fields.where) ?? { line: statement.line, column: statement.column };
  }
  const line = found.start + report.statementLine - 1;
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

/** Runs each file with `psql -f`, for scripts that need psql itself (`\c`, `\set`, `\copy`, ...). */
export async function runFilesWithPsql(files: SqlFile[], options: RunFilesOptions): Promise<RunFilesResult> {
  const started = performance.now();
  const logger = options.logger ?? silentLogger;
  const psql = toolPath('psql', options.pgBinDir);
  let statements = 0;
  let copyRows = 0;
  for (const [index, file] of files.entries()) {
    logger.progress({ phase: 'sql', done: index, total: files.length, unit: 'files', detail: file.relativePath });
    const absolutePath = path.resolve(file.absolutePath);
    // cwd = the file's folder, so `\i other.sql` resolves as it does in-process.
    const cwd = path.dirname(absolutePath);
    const result = await execa(psql, [...PSQL_ARGS, '-f', absolutePath, '--dbname', options.target.url], {
      env: childEnv(options.target),
      cwd,
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
    });
    const stderr = scrub(result.stderr ?? '', options.target);
    if (result.exitCode !== 0) throw await psqlFailure(file, cwd, stderr, result.exitCode, result.code);
    for (const line of stderr.split('\n')) if (line.trim()) logger.debug(line);
    for (const item of splitSql(await readFile(absolutePath))) {
      if (item.kind === 'statement') statements++;
      else if (item.kind === 'copy') {
        statements++;
        copyRows += item.dataLines;
      }
    }
  }
  logger.progress({ phase: 'sql', done: files.length, total: files.length, unit: 'files' });
  return { files: files.length, statements, copyRows, roundTrips: 0, durationMs: Math.round(performance.now() - started) };
}

async function psqlFailure(file: SqlFile, cwd: string, stderr: string, exitCode: number | undefined, code: string | undefined): Promise<DbfastError> {
  if (exitCode === undefined || code === 'ENOENT') {
    return new DbfastError('TOOL_MISSING', `cannot run psql for ${file.relativePath}: ${stderr.trim() || code || 'failed to start'}`, {
      hint: 'Install the PostgreSQL client tools (apt-get install postgresql-client) or set [tools] pg_bin_dir.',
    });
  }
  const report = parsePsqlError(stderr);
  if (report) {
    const absolute = path.resolve(cwd, report.file);
    const root = repositoryRootOf(path.resolve(file.absolutePath), file.relativePath);
    const buffer = await readFile(absolute).catch(() => undefined);
    const relativePath = absolute === path.resolve(file.absolutePath) ? file.relativePath : relativeToRoot(root, absolute);
    if (buffer) {
      const source: SourceFile = { relativePath, absolutePath: absolute, buffer };
      if (report.fields.code === undefined) {
        return sourceError('SQL_PSQL_ERROR', source, report.line, `psql: ${report.fields.message}`, 'Fix the psql command on that line and run again.');
      }
      return sqlError(source, locatePsqlReport(source, report), report.fields);
    }
  }
  return new DbfastError('SQL_PSQL_FAILED', `psql failed on ${file.relativePath} (exit ${exitCode}): ${stderr.trim().split('\n').slice(0, 5).join('\n')}`, {
    hint: 'Read psql\'s message above; check the connection and the file, then run again.',
    details: { file: file.relativePath, exitCode } });
}
