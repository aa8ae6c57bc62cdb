import {
  BACKSLASH, CR, DOLLAR, DOT, DQUOTE, LF, LPAREN, MINUS, PositionCursor, QUOTE, RPAREN, SEMI, SLASH, STAR,
  dollarTagEnd, isDigit, isIdentCont, isIdentStart, isSpace, skipBlockComment, skipEscapeString, skipQuoted,
} from './bytes.js';

/** What a statement runs into when the file ends inside it (the server reports the error). */
export type Unclosed = 'string' | 'quoted identifier' | 'dollar quote' | 'block comment';

export interface SqlStatement {
  kind: 'statement';
  /** The statement from its first token to its `;` (included), comments inside kept. */
  text: string;
  /** Byte offsets in the file: first token, and just past the `;` (or the last token). */
  start: number;
  end: number;
  /** 1-based line and column (in characters) of the first token; endLine is where it ends. */
  line: number;
  column: number;
  endLine: number;
  /** Upper-cased bare words at parenthesis depth 0, the first 16: enough to classify it. */
  words: string[];
  /** Ended by `;` (false for a last statement without one). */
  terminated: boolean;
  unclosed?: Unclosed;
}

export interface SqlCopy {
  kind: 'copy';
  /** `COPY ... FROM stdin;` itself. */
  statement: SqlStatement;
  /** Byte range of the inline data lines, exactly as written (terminator line excluded). */
  dataStart: number;
  dataEnd: number;
  /** Line of the first data line. */
  dataLine: number;
  dataLines: number;
  /** Line of the `\.` terminator (or of the end of the file when missing). */
  endLine: number;
  /** False when the file ends before a `\.` line. */
  terminated: boolean;
  /** Anything but a comment after the `;` on the COPY line (psql would run it after the data). */
  sameLineText?: string;
}

export interface SqlMetaCommand {
  kind: 'meta';
  /** With its backslash: `\i`, `\c`, `\set`. */
  command: string;
  /** The rest of the line. */
  args: string;
  start: number;
  line: number;
  column: number;
  endLine: number;
  /** Found in the middle of a statement (`SELECT ... \gexec`). */
  midStatement: boolean;
}

export type SqlItem = SqlStatement | SqlCopy | SqlMetaCommand;

const MAX_WORDS = 16;

interface Open {
  start: number;
  line: number;
  column: number;
  lastEnd: number;
  words: string[];
  depth: number;
  /** CREATE [OR REPLACE] FUNCTION|PROCEDURE: track BEGIN ... END (SQL-standard bodies hold `;`). */
  routine: boolean;
  beginDepth: number;
  unclosed?: Unclosed;
}

function isRoutineHead(words: string[]): boolean {
  if (words[0] !== 'CREATE') return false;
  const kind = words[1] === 'OR' && words[2] === 'REPLACE' ? words[3] : words[1];
  return kind === 'FUNCTION' || kind === 'PROCEDURE';
}

/** `COPY ... FROM STDIN` at depth 0 (a query in parentheses is at depth 1). */
export function isCopyFromStdin(words: string[]): boolean {
  if (words[0] !== 'COPY') return false;
  for (let i = 1; i < words.length - 1; i++) if (words[i] === 'FROM' && words[i + 1] === 'STDIN') return true;
  return false;
}

function hasBom(buf: Buffer): boolean {
  return buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
}

/**
 * Splits SQL the way psql reads it: statements end at a `;` outside quotes, comments, dollar
 * quotes, parentheses and SQL-standard function bodies; `COPY ... FROM stdin;` is followed by
 * data lines up to `\.`; a backslash outside quotes starts a meta-command that runs to the end
 * of the line. Pure: the caller decides what to do with meta-commands.
 */
export function splitSql(input: Buffer | string): SqlItem[] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const len = buf.length;
  let pos = hasBom(buf) ? 3 : 0;
  const cursor = new PositionCursor(buf, pos);
  const items: SqlItem[] = [];
  let open: Open | undefined;

  const begin = (at: number): Open => {
    const where = cursor.at(at);
    open = { start: at, line: where.line, column: where.column, lastEnd: at, words: [], depth: 0, routine: false, beginDepth: 0 };
    return open;
  };

  const finish = (s: Open, end: number, terminated: boolean, endAt: number): SqlStatement => {
    open = undefined;
    const statement: SqlStatement = {
      kind: 'statement',
      text: buf.toString('utf8', s.start, end),
      start: s.start,
      end,
      line: s.line,
      column: s.column,
      endLine: cursor.at(endAt).line,
      words: s.words,
      terminated,
    };
    if (s.unclosed) statement.unclosed = s.unclosed;
    return statement;
  };

  const runToEnd = (kind: Unclosed, at: number): void => {
    const s = open ?? begin(at);
    s.unclosed = kind;
    s.lastEnd = len;
    pos = len;
  };

  while (pos < len) {
    const b = buf[pos];
    if (isSpace(b)) {
      pos++;
      continue;
    }
    if (b === MINUS && buf[pos + 1] === MINUS) {
      const newline = buf.indexOf(LF, pos + 2);
      pos = newline < 0 ? len : newline;
      continue;
    }
    if (b === SLASH && buf[pos + 1] === STAR) {
      const end = skipBlockComment(buf, pos + 2);
      if (end < 0) runToEnd('block comment', pos);
      else pos = end;
      continue;
    }
    if (b === BACKSLASH) {
      pos = readMeta(buf, pos, cursor, open !== undefined, items);
      continue;
    }
    const s = open ?? begin(pos);
    if (b === SEMI) {
      pos++;
      if (s.depth > 0 || s.beginDepth > 0) {
        s.lastEnd = pos;
        continue;
      }
      const statement = finish(s, pos, true, pos - 1);
      if (isCopyFromStdin(statement.words)) {
        const copy = readCopyData(buf, statement, cursor);
        items.push(copy.item);
        pos = copy.next;
      } else {
        items.push(statement);
      }
      continue;
    }
    if (b === QUOTE || b === DQUOTE) {
      const end = skipQuoted(buf, pos + 1, b);
      if (end < 0) runToEnd(b === QUOTE ? 'string' : 'quoted identifier', pos);
      else pos = s.lastEnd = end;
      continue;
    }
    if (b === DOLLAR) {
      if (isDigit(buf[pos + 1])) {
        pos++;
        while (isDigit(buf[pos])) pos++;
      } else {
        const tagEnd = dollarTagEnd(buf, pos);
        if (tagEnd < 0) {
          pos++;
        } else {
          const close = buf.indexOf(buf.subarray(pos, tagEnd), tagEnd);
          if (close < 0) {
            runToEnd('dollar quote', pos);
            continue;
          }
          pos = close + (tagEnd - pos);
        }
      }
      s.lastEnd = pos;
      continue;
    }
    if (isIdentStart(b)) {
      let j = pos + 1;
      while (isIdentCont(buf[j])) j++;
      if (j === pos + 1 && (b === 69 || b === 101) && buf[j] === QUOTE) {
        const end = skipEscapeString(buf, j + 1);
        if (end < 0) runToEnd('string', pos);
        else pos = s.lastEnd = end;
        continue;
      }
      if (s.depth === 0) noteWord(s, buf.toString('latin1', pos, j).toUpperCase());
      pos = s.lastEnd = j;
      continue;
    }
    if (isDigit(b)) {
      pos++;
      while (isIdentCont(buf[pos]) || buf[pos] === 46) pos++;
    } else {
      if (b === LPAREN) s.depth++;
      else if (b === RPAREN && s.depth > 0) s.depth--;
      pos++;
    }
    s.lastEnd = pos;
  }

  if (open) {
    const s: Open = open;
    const statement = finish(s, s.lastEnd, false, Math.max(s.start, s.lastEnd - 1));
    if (isCopyFromStdin(statement.words) && !statement.unclosed) {
      items.push({
        kind: 'copy', statement, dataStart: len, dataEnd: len, dataLine: statement.endLine,
        dataLines: 0, endLine: statement.endLine, terminated: false,
      });
    } else {
      items.push(statement);
    }
  }
  return items;
}

/** Records a bare word; inside CREATE FUNCTION/PROCEDURE follows BEGIN/CASE ... END like psql does. */
function noteWord(s: Open, word: string): void {
  if (s.words.length < MAX_WORDS) {
    s.words.push(word);
    if (s.words.length === 2 || s.words.length === 4) s.routine = isRoutineHead(s.words);
  }
  if (!s.routine) return;
  if (word === 'BEGIN') s.beginDepth++;
  else if (word === 'CASE' && s.beginDepth > 0) s.beginDepth++;
  else if (word === 'END' && s.beginDepth > 0) s.beginDepth--;
}

/** A backslash outside quotes: psql reads the command and its arguments up to the end of the line. */
function readMeta(buf: Buffer, at: number, cursor: PositionCursor, midStatement: boolean, items: SqlItem[]): number {
  const newline = buf.indexOf(LF, at);
  const lineEnd = newline < 0 ? buf.length : newline;
  const contentEnd = lineEnd > at && buf[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
  let nameEnd = at + 1;
  if (buf[nameEnd] === BACKSLASH) nameEnd++;
  else while (nameEnd < contentEnd && !isSpace(buf[nameEnd]) && buf[nameEnd] !== BACKSLASH) nameEnd++;
  const where = cursor.at(at);
  items.push({
    kind: 'meta',
    command: buf.toString('utf8', at, nameEnd),
    args: buf.toString('utf8', nameEnd, contentEnd).trim(),
    start: at,
    line: where.line,
    column: where.column,
    endLine: where.line,
    midStatement,
  });
  return lineEnd;
}

/** Data lines after `COPY ... FROM stdin;`, from the next line up to a line that is exactly `\.`. */
/** A line that is exactly `\.` (before LF, CRLF or the end of input) starts at `at`. */
function isTerminatorAt(buf: Buffer, at: number): boolean {
  if (buf[at] !== BACKSLASH || buf[at + 1] !== DOT) return false;
  const after = buf[at + 2];
  return after === undefined || after === LF || (after === CR && (buf[at + 3] === undefined || buf[at + 3] === LF));
}

const NEWLINE_TERMINATOR = Buffer.from('\n\\.');

/** Start of the `\.` line at or after `from` (a line start), or -1. Jumps between candidates natively. */
function findTerminator(buf: Buffer, from: number): number {
  if (isTerminatorAt(buf, from)) return from;
  for (let p = from; ; ) {
    const candidate = buf.indexOf(NEWLINE_TERMINATOR, p);
    if (candidate < 0) return -1;
    if (isTerminatorAt(buf, candidate + 1)) return candidate + 1;
    p = candidate + 1;
  }
}

function countNewlines(buf: Buffer, from: number, to: number): number {
  let count = 0;
  for (let at = buf.indexOf(LF, from); at >= 0 && at < to; at = buf.indexOf(LF, at + 1)) count++;
  return count;
}

/** Data lines after `COPY ... FROM stdin;`, from the next line up to a line that is exactly `\.`. */
function readCopyData(buf: Buffer, statement: SqlStatement, cursor: PositionCursor): { item: SqlCopy; next: number } {
  const len = buf.length;
  // The rest of the COPY line: whitespace or a comment is fine; psql would run anything else after the data.
  const newline = buf.indexOf(LF, statement.end);
  const rest = buf.toString('utf8', statement.end, newline < 0 ? len : newline).trim();
  const dataStart = newline < 0 ? len : newline + 1;
  const terminator = dataStart < len ? findTerminator(buf, dataStart) : -1;
  const terminated = terminator >= 0;
  const dataEnd = terminated ? terminator : len;
  const lines = countNewlines(buf, dataStart, dataEnd) + (!terminated && len > dataStart && buf[len - 1] !== LF ? 1 : 0);
  const dataLine = cursor.at(dataStart).line;
  let endLine = dataLine + lines;
  let next = len;
  if (terminated) {
    cursor.jumpToLineStart(dataEnd, endLine);
    const lf = buf.indexOf(LF, terminator);
    next = lf < 0 ? len : lf + 1;
  } else {
    endLine = cursor.at(len).line;
  }
  const item: SqlCopy = {
    kind: 'copy', statement, dataStart, dataEnd, dataLine, dataLines: lines, endLine, terminated,
  };
  if (rest !== '' && !rest.startsWith('--')) item.sameLineText = rest;
  return { item, next };
}
