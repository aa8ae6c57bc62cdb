import type pg from 'pg';
import { DbfastError, errorMessage } from '../errors.js';
import { BATCH_SAVEPOINT, statementAfter, statementAt, type Batch, type SentStatement } from './batch.js';
import { operationalSqlError, sqlError, isServerError } from './sql-error.js';
import { indexOfCodePoint, locationInStatement, type SourceLocation } from './source.js';
import type { SqlStatement } from './split.js';

/** A DO block's error names a line of its body (`inline_code_block line 3`): map it to the file. */
export function doBlockLocation(statement: SqlStatement, where: string | undefined): SourceLocation | undefined {
  if (statement.words[0] !== 'DO' || !where) return undefined;
  const bodyLine = /inline_code_block line (\d+)/.exec(where)?.[1];
  const opening = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$|'/.exec(statement.text);
  if (bodyLine === undefined || !opening) return undefined;
  const bodyStart = locationInStatement(statement, opening.index);
  const line = bodyStart.line + Number(bodyLine) - 1;
  let column = 1;
  if (Number(bodyLine) === 1) column = bodyStart.column;
  else {
    const lines = statement.text.split('\n');
    const text = lines[line - statement.line];
    if (text !== undefined) column = text.length - text.trimStart().length + 1;
  }
  return { line, column };
}

/** A located error for a failure of one statement sent on its own (server position relative to its sent text). */
export function statementError(sent: SentStatement, error: unknown): DbfastError {
  const { source, statement } = sent;
  if (!isServerError(error)) {
    // A lost connection or a full local disk is not the statement's fault.
    const operational = operationalSqlError(source, { line: statement.line, column: statement.column }, error, undefined, statement.text);
    if (operational) return operational;
    return new DbfastError('SQL_FAILED', `${source.relativePath}:${statement.line}:${statement.column}: ${errorMessage(error)}`, {
      hint: 'The connection to the server failed while running this statement; check the server and run again.',
      cause: error,
      details: { file: source.relativePath, line: statement.line, column: statement.column } });
  }
  let location: SourceLocation = { line: statement.line, column: statement.column };
  if (error.position) {
    location = locationInStatement(statement, sent.toSource(indexOfCodePoint(sent.sql, Number(error.position) - 1)));
  } else {
    location = doBlockLocation(statement, error.where) ?? location;
  }
  return sqlError(source, location, error, error, statement.text);
}

/**
 * Re-runs a failed batch one statement at a time to find the one that fails. Safe because a
 * multi-statement query is one implicit transaction (rolled back as a whole), and the re-run
 * itself is inside BEGIN ... ROLLBACK (or rolled back to the batch's savepoint inside an open
 * transaction, which is then left aborted as the original failure left it).
 */
async function rerun(client: pg.Client, statements: SentStatement[], inSavepoint: boolean): Promise<{ sent: SentStatement; error: unknown } | undefined> {
  await client.query(inSavepoint ? `ROLLBACK TO SAVEPOINT ${BATCH_SAVEPOINT}` : 'BEGIN');
  let found: { sent: SentStatement; error: unknown } | undefined;
  for (const sent of statements) {
    try {
      await client.query(sent.sql);
    } catch (error) {
      found = { sent, error };
      break;
    }
  }
  if (!inSavepoint) await client.query('ROLLBACK');
  else if (!found) await client.query(`ROLLBACK TO SAVEPOINT ${BATCH_SAVEPOINT}`);
  return found;
}

/**
 * Maps a failed batch back to the statement (and line and column) that caused it: by the
 * server's position when it gives one, else by how many of the batch's statements the server
 * had finished (`completed`): exact for any failure, a cancel or a lost connection included,
 * and nothing runs again. Only a failure after the last statement (a deferred constraint at the
 * implicit commit) is looked for by re-running the batch a statement at a time.
 */
export async function batchError(client: pg.Client, batch: Batch, inSavepoint: boolean, error: unknown, completed: number): Promise<DbfastError> {
  const first = batch.statements[0] as SentStatement;
  const running = statementAfter(batch, completed, inSavepoint);
  if (!isServerError(error)) return statementError(running ?? first, error);
  if (error.position) {
    const index = indexOfCodePoint(batch.text, Number(error.position) - 1);
    const { statement, offset } = statementAt(batch, index);
    return sqlError(statement.source, locationInStatement(statement.statement, statement.toSource(offset)), error, error, statement.statement.text);
  }
  if (running) return statementError(running, error);
  let found: { sent: SentStatement; error: unknown } | undefined;
  try {
    found = await rerun(client, batch.statements, inSavepoint);
  } catch {
    // The session is not in a state to re-run (e.g. the connection dropped): point at the batch.
    found = undefined;
  }
  if (found && isServerError(found.error)) return statementError(found.sent, found.error);
  return statementError(first, error);
}
