import {
  BACKSLASH, DOLLAR, DQUOTE, LPAREN, MAX_SPLIT_BYTES, MINUS, PositionCursor, QUOTE, RPAREN, SEMI, SLASH, STAR,
  byteView, dollarTagEnd, isDigit, isIdentCont, isIdentStart, isSpace, positionAfter, skipBlockComment, skipEscapeString, skipQuoted,
} from './bytes.js';
import { isCopyFromStdin, type SqlCopy, type SqlItem, type SqlStatement, type Unclosed } from './items.js';
import { readCopyData, readMeta } from './split-lines.js';
import { escapePrefixed, noteWord, skipBulk, wantsWords, type Open } from './split-statement.js';

export * from './items.js';

/** Where a window of a larger input starts, and whether it is the last one. */
export interface WindowStart {
  /** The input ends with this window: what is open at its end runs to the end of the input. */
  final: boolean;
  /** Line of the window's first byte, and characters before it on that line. */
  line: number;
  column: number;
  /** The window starts the input: a UTF-8 byte-order mark there is skipped. */
  first: boolean;
}

/** What one window splits into. */
export interface WindowSplit {
  /** Complete items, in order; positions are byte offsets in the window, lines and columns in the whole input. */
  items: SqlItem[];
  /** Bytes the items cover; the rest (an item the window ends inside) is read again with more input after it. */
  consumed: number;
  /** Position at `consumed`, to start the next window with. */
  line: number;
  column: number;
  /** A COPY (after `items`) whose data goes on past the window: its data starts at `consumed`. */
  openCopy?: SqlCopy;
}

/**
 * Splits SQL the way psql reads it: statements end at a `;` outside quotes, comments, dollar
 * quotes, parentheses and SQL-standard function bodies; `COPY ... FROM stdin;` is followed by
 * data lines up to `\.`; a backslash outside quotes starts a meta-command that runs to the end
 * of the line. Pure: the caller decides what to do with meta-commands.
 */
export function splitSql(input: Buffer | string): SqlItem[] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  return splitWindow(buf, { final: true, line: 1, column: 0, first: true }).items;
}

/**
 * Splits one window of a larger input (the streaming reader's unit). A window is split as if
 * the input ended there, then whatever the window ends inside (a statement without its `;`, a
 * meta-command without its line break, a COPY's `\.` line) is left out: the reader reads it
 * again with more input. Every cut is where nothing is open, so splitting resumes there exactly.
 */
export function splitWindow(buf: Buffer, start: WindowStart): WindowSplit {
  if (buf.length > MAX_SPLIT_BYTES) throw new RangeError(`SQL text of ${buf.length} bytes is larger than the ${MAX_SPLIT_BYTES} bytes the splitter can read`);
  const src = byteView(buf);
  const len = src.length;
  let pos = start.first && src.startsWith('\xef\xbb\xbf') ? 3 : 0;
  const origin = pos;
  const cursor = new PositionCursor(src, pos, start.line, start.column);
  const items: SqlItem[] = [];
  let open: Open | undefined;
  /** End of the last complete item: where the next window starts. */
  let completeEnd = pos;

  // One statement is open at a time: its state object is reused (its words go to the statement).
  const state: Open = { start: 0, line: 0, column: 0, lastEnd: 0, words: [], depth: 0, routine: false, beginDepth: 0, unclosed: undefined };
  const begin = (at: number): Open => {
    state.line = cursor.lineAt(at);
    state.column = cursor.column;
    state.start = state.lastEnd = at;
    state.words = [];
    state.depth = state.beginDepth = 0;
    state.routine = false;
    state.unclosed = undefined;
    open = state;
    return state;
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
      endLine: cursor.lineAt(endAt),
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
    if (open !== undefined && !wantsWords(open)) {
      pos = skipBulk(src, open, pos);
      if (pos >= len) break;
    }
    const c = src.charCodeAt(pos);
    if (isSpace(c)) {
      pos++;
      continue;
    }
    if (c === MINUS && src.charCodeAt(pos + 1) === MINUS) {
      const newline = src.indexOf('\n', pos + 2);
      pos = newline < 0 ? len : newline;
      continue;
    }
    if (c === SLASH && src.charCodeAt(pos + 1) === STAR) {
      const end = skipBlockComment(src, pos + 2);
      if (end < 0) runToEnd('block comment', pos);
      else pos = end;
      continue;
    }
    if (c === BACKSLASH) {
      const meta = readMeta(src, buf, pos, cursor, open !== undefined);
      items.push(meta.item);
      pos = meta.next;
      if (open === undefined && (start.final || pos < len)) completeEnd = pos;
      continue;
    }
    const s = open ?? begin(pos);
    if (c === SEMI) {
      pos++;
      if (s.depth > 0 || s.beginDepth > 0) {
        s.lastEnd = pos;
        continue;
      }
      const statement = finish(s, pos, true, pos - 1);
      if (isCopyFromStdin(statement.words)) {
        const copy = readCopyData(src, buf, statement, cursor, start.final);
        items.push(copy.item);
        pos = copy.next;
        if (copy.item.terminated) completeEnd = pos;
      } else {
        items.push(statement);
        completeEnd = pos;
      }
      continue;
    }
    if (c === QUOTE && escapePrefixed(src, pos, s.start)) {
      // E'...' whose E the fast path skipped.
      const end = skipEscapeString(src, pos + 1);
      if (end < 0) runToEnd('string', pos);
      else pos = s.lastEnd = end;
      continue;
    }
    if (c === QUOTE || c === DQUOTE) {
      const end = skipQuoted(src, pos + 1, c === QUOTE ? "'" : '"');
      if (end < 0) runToEnd(c === QUOTE ? 'string' : 'quoted identifier', pos);
      else pos = s.lastEnd = end;
      continue;
    }
    if (c === DOLLAR) {
      if (pos > s.start && isIdentCont(src.charCodeAt(pos - 1))) {
        // Part of an identifier (`a$b`) whose start the fast path skipped.
        pos++;
      } else if (isDigit(src.charCodeAt(pos + 1))) {
        pos++;
        while (isDigit(src.charCodeAt(pos))) pos++;
      } else {
        const tagEnd = dollarTagEnd(src, pos);
        if (tagEnd < 0) {
          pos++;
        } else {
          const close = src.indexOf(src.slice(pos, tagEnd), tagEnd);
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
    if (isIdentStart(c)) {
      let j = pos + 1;
      while (isIdentCont(src.charCodeAt(j))) j++;
      if (j === pos + 1 && (c | 0x20) === 101 && src.charCodeAt(j) === QUOTE) {
        const end = skipEscapeString(src, j + 1);
        if (end < 0) runToEnd('string', pos);
        else pos = s.lastEnd = end;
        continue;
      }
      if (wantsWords(s)) noteWord(s, src.slice(pos, j).toUpperCase());
      pos = s.lastEnd = j;
      continue;
    }
    if (isDigit(c)) {
      pos++;
      while (isIdentCont(src.charCodeAt(pos)) || src.charCodeAt(pos) === 46) pos++;
    } else {
      if (c === LPAREN) s.depth++;
      else if (c === RPAREN && s.depth > 0) s.depth--;
      pos++;
    }
    s.lastEnd = pos;
  }

  if (!start.final) return windowEnd(src, items, completeEnd, origin, start);
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
  return { items, consumed: len, ...positionAfter(src, origin, len, start.line, start.column) };
}

/**
 * The end of a window that is not the input's last: keeps the items before `completeEnd` (a
 * meta-command found inside a statement still open is dropped with it), or hands over a COPY
 * whose data runs on, when its statement and the rest of its line are in the window.
 */
function windowEnd(src: string, items: SqlItem[], completeEnd: number, origin: number, start: WindowStart): WindowSplit {
  const last = items[items.length - 1];
  if (last?.kind === 'copy' && !last.terminated && last.statement.end >= completeEnd && last.dataStart < src.length) {
    return { items: items.slice(0, -1), consumed: last.dataStart, line: last.dataLine, column: 0, openCopy: last };
  }
  const kept = items.filter((item) => (item.kind === 'copy' ? item.terminated && item.statement.start < completeEnd : item.start < completeEnd));
  return { items: kept, consumed: completeEnd, ...positionAfter(src, origin, completeEnd, start.line, start.column) };
}
