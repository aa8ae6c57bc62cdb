import { access } from 'node:fs/promises';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import { connect } from '../pg/client.js';
import type { DbTarget } from '../pg/target.js';
import { doBlockLocation } from './locate.js';
import type { SqlStatement } from './items.js';
import { applySetCommand, connectionVariables, PSQL_DEFAULTS } from './psql-variables.js';
import { SqlReader, type StreamedCopy } from './reader.js';
import { sourceError, sqlError, type ServerErrorFields } from './sql-error.js';
import { indexOfCodePoint, locationInStatement, nameInRoot, repositoryRootOf, type SourceFile, type SourceLocation } from './source.js';
import type { SqlFile } from './types.js';
import { findReferences, substitute } from './variables.js';

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

/**
 * Where in the file psql's report points: its statement, the LINE/caret inside it, or the COPY
 * data line. psql echoes the statement as it sent it, variables substituted: `variables` (what
 * psql had when the file started) are replayed through the file's `\set`s so the caret maps
 * back to the source exactly.
 */
export async function locatePsqlReport(source: SourceFile, report: PsqlErrorReport, variables = new Map<string, string>()): Promise<SourceLocation> {
  const reader = await SqlReader.open(source.absolutePath, source.buffer);
  try {
    for await (const item of reader.items()) {
      if (item.kind === 'copy') {
        for await (const piece of item.data) void piece;
        if (item.statement.line <= report.line && report.line <= (item.end?.endLine ?? item.statement.line)) return locateCopy(item, report, variables);
      } else if (item.line <= report.line && report.line <= item.endLine) {
        return item.kind === 'meta' ? { line: item.line, column: item.column } : locateStatement(item, report, variables);
      } else if (item.kind === 'meta' && (item.command === '\\set' || item.command === '\\unset')) {
        applySetCommand(item.command, item.args, variables);
      }
      if ((item.kind === 'copy' ? item.statement.line : item.line) > report.line) break;
    }
  } finally {
    await reader.close();
  }
  return { line: report.line, column: 1 };
}

function locateCopy(copy: StreamedCopy, report: PsqlErrorReport, variables: ReadonlyMap<string, string>): SourceLocation {
  const dataLine = /\bCOPY [^,]*, line (\d+)/.exec(report.fields.where ?? '')?.[1];
  if (dataLine !== undefined) return { line: copy.dataLine + Number(dataLine) - 1, column: 1 };
  return locateStatement(copy.statement, report, variables);
}

function locateStatement(statement: SqlStatement, report: PsqlErrorReport, variables: ReadonlyMap<string, string>): SourceLocation {
  if (report.statementLine === undefined) {
    return doBlockLocation(statement, report.fields.where) ?? { line: statement.line, column: statement.column };
  }
  // The statement as psql sent it (and echoed it): variables substituted.
  const sent = substitute(statement.text, variables);
  const lines = sent.text.split('\n');
  const real = lines[report.statementLine - 1];
  if (real === undefined) return { line: statement.line + report.statementLine - 1, column: report.caretColumn ?? 1 };
  let column = report.caretColumn ?? 1;
  if (report.echo !== undefined && report.caretColumn !== undefined) {
    // psql cuts long lines to a window with "..." around it: find the shown text in the real line.
    const cut = report.echo.startsWith('...') ? 3 : 0;
    const shown = report.echo.slice(cut).replace(/\.\.\.$/, '');
    const at = real.indexOf(shown);
    if (at >= 0) column = Array.from(real.slice(0, at)).length + report.caretColumn - cut;
  }
  let index = 0;
  for (let n = 0; n < report.statementLine - 1; n++) index += (lines[n] as string).length + 1;
  index += indexOfCodePoint(real, Math.max(0, column - 1));
  return locationInStatement(statement, sent.toSource(index));
}

/** Connecting for psql's connection variables is worth it only when the file uses variables at all. */
async function variablesFor(source: SourceFile, run: { target: DbTarget; variables: Record<string, string> }): Promise<Map<string, string>> {
  const reader = await SqlReader.open(source.absolutePath);
  let uses = false;
  try {
    for await (const item of reader.items()) {
      if (item.kind === 'copy') for await (const piece of item.data) void piece;
      const text = item.kind === 'meta' ? item.args : item.kind === 'copy' ? item.statement.text : item.text;
      if (text.includes(':') && (item.kind === 'meta' || findReferences(text).length > 0)) uses = true;
      if (uses) break;
    }
  } finally {
    await reader.close();
  }
  return uses ? startingVariables(run.target, run.variables) : new Map(Object.entries(PSQL_DEFAULTS));
}

/** The variables psql had when a file started: its defaults, the config's, and the ones it set from the connection. */
async function startingVariables(target: DbTarget, configured: Record<string, string>): Promise<Map<string, string>> {
  const variables = new Map([...Object.entries(PSQL_DEFAULTS), ...Object.entries(configured)]);
  try {
    const client = await connect(target, { applicationName: 'dbfast psql error' });
    try {
      for (const [name, value] of Object.entries(await connectionVariables(client))) variables.set(name, value);
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch {
    // Without a connection the connection's variables stay unknown: a caret after one may be off.
  }
  return variables;
}

/** The error for a psql run that failed: psql's own report located in the file when there is one. */
export async function psqlFailure(file: SqlFile, cwd: string, stderr: string, result: { exitCode: number | undefined; code: string | undefined }, run: { target: DbTarget; variables: Record<string, string> }): Promise<DbfastError> {
  const { exitCode, code } = result;
  if (exitCode === undefined || code === 'ENOENT') {
    return new DbfastError('TOOL_MISSING', `cannot run psql for ${file.relativePath}: ${stderr.trim() || code || 'failed to start'}`, {
      hint: 'Install the PostgreSQL client tools (apt-get install postgresql-client) or set [tools] pg_bin_dir.',
    });
  }
  const report = parsePsqlError(stderr);
  if (report) {
    const absolute = path.resolve(cwd, report.file);
    const root = file.root ?? repositoryRootOf(path.resolve(file.absolutePath), file.relativePath);
    const readable = await access(absolute).then(() => true, () => false);
    const relativePath = absolute === path.resolve(file.absolutePath) ? file.relativePath : nameInRoot(root, file, absolute);
    if (readable) {
      const source: SourceFile = { relativePath, absolutePath: absolute };
      if (report.fields.code === undefined) {
        return sourceError('SQL_PSQL_ERROR', source, report.line, `psql: ${report.fields.message}`, 'Fix the psql command on that line and run again.');
      }
      const statement = await locatePsqlReport(source, report, await variablesFor(source, run));
      return sqlError(source, statement, report.fields);
    }
  }
  return new DbfastError('SQL_PSQL_FAILED', `psql failed on ${file.relativePath} (exit ${exitCode}): ${stderr.trim().split('\n').slice(0, 5).join('\n')}`, {
    hint: 'Read psql\'s message above; check the connection and the file, then run again.',
    details: { file: file.relativePath, exitCode },
  });
}
