import type { SourceFile } from './source.js';
import type { SqlStatement } from './split.js';

/** Savepoint around a batch sent inside an open transaction, so a failure can be rolled back to it and located. */
export const BATCH_SAVEPOINT = 'dbfast_batch';

/** A statement as it is sent: its source (for locating errors) and its text after psql variables. */
export interface SentStatement {
  source: SourceFile;
  statement: SqlStatement;
  /** What is sent: the statement's text with its variables substituted. */
  sql: string;
  /** An index in `sql` as an index in `statement.text`. */
  toSource(index: number): number;
  /** Statements `sql` holds, as the server counts them (the runner's session reset sends several); 1 when absent. */
  commands?: number;
}

/** Statements joined into one simple-query string, with where each one starts in it. */
export interface Batch {
  text: string;
  statements: SentStatement[];
  /** JS string index of each statement's first character in `text`. */
  offsets: number[];
}

/**
 * Joins statements into one query text. A statement without its own `;` (the end of a file)
 * gets one, so it cannot run into the next file's first statement. One join: no quadratic
 * string building however many statements there are.
 */
export function buildBatch(statements: SentStatement[], savepoint: boolean): Batch {
  const parts: string[] = [];
  const offsets: number[] = [];
  let length = 0;
  const push = (part: string): void => {
    parts.push(part);
    length += part.length;
  };
  if (savepoint) push(`SAVEPOINT ${BATCH_SAVEPOINT};\n`);
  for (const sent of statements) {
    offsets.push(length);
    push(sent.sql);
    push(sent.statement.terminated ? '\n' : ';\n');
  }
  if (savepoint) push(`RELEASE SAVEPOINT ${BATCH_SAVEPOINT};`);
  return { text: parts.join(''), statements, offsets };
}

/** Which statement holds the JS string index `index` of the batch text, and the index inside it. */
export function statementAt(batch: Batch, index: number): { statement: SentStatement; offset: number } {
  let low = 0;
  let high = batch.offsets.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((batch.offsets[mid] as number) <= index) low = mid;
    else high = mid - 1;
  }
  const statement = batch.statements[low] as SentStatement;
  return { statement, offset: Math.max(0, index - (batch.offsets[low] as number)) };
}

/**
 * The statement of a batch the server was running when it failed, from how many statements it
 * had finished (`completed`, the batch's own SAVEPOINT included); undefined when the failure
 * came after the last one (a deferred constraint checked at the implicit commit).
 */
export function statementAfter(batch: Batch, completed: number, savepoint: boolean): SentStatement | undefined {
  let left = completed - (savepoint ? 1 : 0);
  if (left < 0) return undefined;
  for (const sent of batch.statements) {
    left -= sent.commands ?? 1;
    if (left < 0) return sent;
  }
  return undefined;
}
