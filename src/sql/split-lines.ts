import { BACKSLASH, CR, DOT, LF, isSpace, type PositionCursor } from './bytes.js';
import type { SqlCopy, SqlMetaCommand, SqlStatement } from './items.js';

/** Where a line that starts at `from` ends, without its `\r\n` / `\n`. */
function contentEnd(src: string, from: number): { end: number; next: number } {
  const newline = src.indexOf('\n', from);
  const lineEnd = newline < 0 ? src.length : newline;
  return { end: lineEnd > from && src.charCodeAt(lineEnd - 1) === CR ? lineEnd - 1 : lineEnd, next: lineEnd };
}

/**
 * A backslash outside quotes: psql reads the command and its arguments up to the end of the
 * line. Returns the meta-command and where scanning goes on (the line break).
 */
export function readMeta(src: string, buf: Buffer, at: number, cursor: PositionCursor, midStatement: boolean): { item: SqlMetaCommand; next: number } {
  const { end, next } = contentEnd(src, at);
  let nameEnd = at + 1;
  if (src.charCodeAt(nameEnd) === BACKSLASH) nameEnd++;
  else while (nameEnd < end && !isSpace(src.charCodeAt(nameEnd)) && src.charCodeAt(nameEnd) !== BACKSLASH) nameEnd++;
  const where = cursor.at(at);
  const item: SqlMetaCommand = {
    kind: 'meta',
    command: buf.toString('utf8', at, nameEnd),
    args: buf.toString('utf8', nameEnd, end).trim(),
    start: at,
    end: next,
    line: where.line,
    column: where.column,
    endLine: where.line,
    midStatement,
  };
  return { item, next };
}

/**
 * A line that is exactly `\.` (before LF, CRLF or the end of input) starts at `at`. At the end of
 * a window that is not the input's last, whether the line ends there is not known yet: no.
 */
function isTerminatorAt(src: string, at: number, final: boolean): boolean {
  if (src.charCodeAt(at) !== BACKSLASH || src.charCodeAt(at + 1) !== DOT) return false;
  const after = at + 2;
  if (after === src.length) return final;
  if (src.charCodeAt(after) === LF) return true;
  if (src.charCodeAt(after) !== CR) return false;
  return after + 1 === src.length ? final : src.charCodeAt(after + 1) === LF;
}

/** Start of the `\.` line at or after `from` (a line start), or -1. */
function findTerminator(src: string, from: number, final: boolean): number {
  if (isTerminatorAt(src, from, final)) return from;
  for (let p = from; ; ) {
    const candidate = src.indexOf('\n\\.', p);
    if (candidate < 0) return -1;
    if (isTerminatorAt(src, candidate + 1, final)) return candidate + 1;
    p = candidate + 1;
  }
}

function countNewlines(src: string, from: number, to: number): number {
  let count = 0;
  for (let at = src.indexOf('\n', from); at >= 0 && at < to; at = src.indexOf('\n', at + 1)) count++;
  return count;
}

/** Data lines after `COPY ... FROM stdin;`, from the next line up to a line that is exactly `\.`. */
export function readCopyData(src: string, buf: Buffer, statement: SqlStatement, cursor: PositionCursor, final: boolean): { item: SqlCopy; next: number } {
  const len = src.length;
  // The rest of the COPY line: whitespace or a comment is fine; psql would run anything else after the data.
  const newline = src.indexOf('\n', statement.end);
  const rest = buf.toString('utf8', statement.end, newline < 0 ? len : newline).trim();
  const dataStart = newline < 0 ? len : newline + 1;
  const terminator = dataStart < len ? findTerminator(src, dataStart, final) : -1;
  const terminated = terminator >= 0;
  const dataEnd = terminated ? terminator : len;
  const lastLineOpen = !terminated && len > dataStart && src.charCodeAt(len - 1) !== LF;
  const lines = countNewlines(src, dataStart, dataEnd) + (lastLineOpen ? 1 : 0);
  const dataLine = cursor.lineAt(dataStart);
  let endLine = dataLine + lines;
  let next = len;
  if (terminated) {
    cursor.jumpToLineStart(dataEnd, endLine);
    const lf = src.indexOf('\n', terminator);
    next = lf < 0 ? len : lf + 1;
  } else {
    endLine = cursor.lineAt(len);
  }
  const item: SqlCopy = { kind: 'copy', statement, dataStart, dataEnd, dataLine, dataLines: lines, endLine, terminated };
  if (rest !== '' && !rest.startsWith('--')) item.sameLineText = rest;
  return { item, next };
}
