import pg from 'pg';
import { DbfastError, type ErrorCode } from '../errors.js';
import { operationalError } from '../failure/operational.js';
import { includeChain, sourceLine, type SourceFile, type SourceLocation } from './source.js';

/** The parts of a server error (from the protocol, or parsed from psql's output) that a located error keeps. */
export interface ServerErrorFields {
  message: string;
  code?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  where?: string | undefined;
}

/** Fields of a SQL_ERROR's `details` (carried as fields by `--json`). */
export interface SqlErrorDetails {
  file: string;
  line: number;
  column: number;
  sqlState: string | null;
  detail: string | null;
  serverHint: string | null;
  where: string | null;
  /** `file:line` of each `\i` that led to the file, outermost first (empty when not included). */
  includedFrom: string[];
}

export function isServerError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError;
}

const WINDOW = 120;

/** The source line with a caret under the column; long lines are cut to a window around it. */
export function excerpt(source: SourceFile, location: SourceLocation): string {
  const text = sourceLine(source, location.line);
  if (text === undefined) return '';
  const chars = Array.from(text);
  let from = 0;
  let to = chars.length;
  if (chars.length > WINDOW) {
    from = Math.max(0, Math.min(location.column - 1 - WINDOW / 2, chars.length - WINDOW));
    to = from + WINDOW;
  }
  const shown = (from > 0 ? '…' : '') + chars.slice(from, to).join('') + (to < chars.length ? '…' : '');
  // Keep tabs in the caret line so the caret lines up whatever the tab width.
  const pad = chars
    .slice(from, Math.max(from, location.column - 1))
    .map((c) => (c === '\t' ? '\t' : ' '))
    .join('');
  const gutter = String(location.line);
  return `${gutter} | ${shown}\n${' '.repeat(gutter.length)} | ${from > 0 ? ' ' : ''}${pad}^`;
}

/** What to do about a failure that is not a mistake in the SQL itself, by SQLSTATE. */
const HINTS_BY_STATE: Record<string, string> = {
  '57014': 'The statement was cancelled (statement_timeout, pg_cancel_backend, or an interrupt) while it ran; run again, or find out why it runs so long.',
  '25006': 'Writes are refused in a read-only transaction: a database or role setting default_transaction_read_only = on (from an earlier file, in force from the next file on) makes every later file read-only. Move that setting into the last file.',
};

/**
 * SQLSTATEs about the server or the session rather than the SQL: resources (class 53: disk full,
 * out of memory, too many connections), shutdown (57P01-57P03), the connection (class 08), and
 * a missing privilege (42501). Editing the file fixes none of them.
 */
const OPERATIONAL_STATE = /^(?:53...|08...|57P0[123]|42501)$/;

/**
 * A failure of the environment while a file ran: the operational mapping (failure/operational.ts:
 * DISK_FULL, SERVER_RESOURCES, CONNECTION_LOST, PERMISSION_DENIED with the GRANT) with the file,
 * line and column kept as where it happened. Undefined for an error in the SQL itself.
 */
export function operationalSqlError(source: SourceFile, location: SourceLocation, cause: unknown, fields?: ServerErrorFields, statement?: string): DbfastError | undefined {
  const code = fields?.code ?? (cause as { code?: unknown } | undefined)?.code;
  if (fields && (typeof code !== 'string' || !OPERATIONAL_STATE.test(code))) return undefined;
  // psql's report is text: give the mapping an error with the same fields.
  const raw = cause instanceof Error ? cause : fields ? Object.assign(new Error(fields.message), { code: fields.code, detail: fields.detail, hint: fields.hint }) : cause;
  const mapped = operationalError(raw, statement === undefined ? {} : { statement });
  if (!mapped) return undefined;
  const where = `${source.relativePath}:${location.line}:${location.column}`;
  const chain = includeChain(source);
  return new DbfastError(mapped.code, `${where}: ${mapped.message}`, {
    hint: mapped.hint,
    cause,
    details: { ...mapped.details, file: source.relativePath, line: location.line, column: location.column, includedFrom: chain },
  });
}

/**
 * `db/a.sql:42:7: relation "foo" does not exist`, the line with a caret, and the server's fields;
 * an operational failure (full disk, lost connection, missing privilege) keeps its own code and
 * hint (operationalSqlError), with the same file:line:column.
 */
export function sqlError(source: SourceFile, location: SourceLocation, error: ServerErrorFields, cause?: unknown, statement?: string): DbfastError {
  const operational = operationalSqlError(source, location, cause ?? error, error, statement);
  if (operational) return operational;
  const head = `${source.relativePath}:${location.line}:${location.column}: ${error.message}`;
  const lines = [head];
  const shown = excerpt(source, location);
  if (shown) lines.push(shown);
  if (error.detail) lines.push(`DETAIL: ${error.detail}`);
  const chain = includeChain(source);
  if (chain.length > 0) lines.push(`(included from ${chain.slice().reverse().join(', from ')})`);
  const details: SqlErrorDetails = {
    file: source.relativePath,
    line: location.line,
    column: location.column,
    sqlState: error.code ?? null,
    detail: error.detail ?? null,
    serverHint: error.hint ?? null,
    where: error.where ?? null,
    includedFrom: chain,
  };
  return new DbfastError('SQL_ERROR', lines.join('\n'), {
    hint: error.hint ?? HINTS_BY_STATE[error.code ?? ''] ?? `Fix the SQL at ${source.relativePath}:${location.line} and run again.`,
    cause,
    details: { ...details },
  });
}

/** An error about the file itself (meta-commands, includes, COPY data), before anything runs; `column` when it is about a place in a line. */
export function sourceError(
  code: ErrorCode,
  source: SourceFile,
  line: number,
  message: string,
  hint: string,
  extra: Record<string, unknown> = {},
  column?: number,
): DbfastError {
  const chain = includeChain(source);
  const suffix = chain.length > 0 ? ` (included from ${chain.slice().reverse().join(', from ')})` : '';
  const where = column === undefined ? `${source.relativePath}:${line}` : `${source.relativePath}:${line}:${column}`;
  return new DbfastError(code, `${where}: ${message}${suffix}`, {
    hint,
    details: { file: source.relativePath, line, ...(column === undefined ? {} : { column }), includedFrom: chain, ...extra },
  });
}
