import {
  BACKSLASH, DOLLAR, DQUOTE, LPAREN, MAX_SPLIT_BYTES, MINUS, PositionCursor, QUOTE, RPAREN, SEMI, SLASH, STAR,
  byteView, dollarTagEnd, isDigit, isIdentCont, isIdentStart, isSpace, skipBlockComment, skipEscapeString, skipQuoted,
} from './bytes.js';
import { isCopyFromStdin, type SqlItem, type SqlStatement, type Unclosed } from './items.js';
import { readCopyData, readMeta } from './split-lines.js';

export * from './items.js';

const MAX_WORDS = 16;
const SHORT_WORDS = 3;
const FULL_WORDS = new Set(['COPY', 'ALTER', 'CREATE', 'DROP', 'REINDEX']);

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

/** Whether bare words of the statement are still needed (to classify it, or to follow BEGIN ... END). */
function wantsWords(s: Open): boolean {
  if (s.depth !== 0) return false;
  const first = s.words[0];
  return s.routine || s.words.length < (first === undefined || FULL_WORDS.has(first) ? MAX_WORDS : SHORT_WORDS);
}

function isRoutineHead(words: string[]): boolean {
  if (words[0] !== 'CREATE') return false;
  const kind = words[1] === 'OR' && words[2] === 'REPLACE' ? words[3] : words[1];
  return kind === 'FUNCTION' || kind === 'PROCEDURE';
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

/** The next character that can start or end something, once a statement's words are known. */
const NEXT_SPECIAL = /['"$\-/;\\()]/g;

function nextSpecial(src: string, from: number): number {
  NEXT_SPECIAL.lastIndex = from;
  // test() rather than exec(): no match object to allocate per call.
  return NEXT_SPECIAL.test(src) ? NEXT_SPECIAL.lastIndex - 1 : src.length;
}

/** An `E` (or `e`) standing alone just before `at`, making the quote there an escape string. */
function escapePrefixed(src: string, at: number, start: number): boolean {
  return at - 1 > start && (src.charCodeAt(at - 1) | 0x20) === 101 && !isIdentCont(src.charCodeAt(at - 2));
}

/**
 * The bulk of big statements (VALUES lists), once their words are known: jumps over plain text,
 * plain strings and parentheses natively; returns where the main loop must look (or the end).
 */
function skipBulk(src: string, s: Open, from: number): number {
  let pos = from;
  for (;;) {
    const special = nextSpecial(src, pos);
    if (special > pos) {
      let end = special;
      while (end > pos && isSpace(src.charCodeAt(end - 1))) end--;
      if (end > pos) s.lastEnd = end;
    }
    const c = src.charCodeAt(special);
    if (c === QUOTE && !escapePrefixed(src, special, s.start)) {
      const end = skipQuoted(src, special + 1, "'");
      if (end < 0) return special;
      pos = s.lastEnd = end;
    } else if (c === LPAREN) {
      s.depth++;
      pos = s.lastEnd = special + 1;
    } else if (c === RPAREN) {
      if (s.depth > 0) s.depth--;
      pos = s.lastEnd = special + 1;
      if (wantsWords(s)) return pos;
    } else {
      return special;
    }
  }
}

/**
 * Splits SQL the way psql reads it: statements end at a `;` outside quotes, comments, dollar
 * quotes, parentheses and SQL-standard function bodies; `COPY ... FROM stdin;` is followed by
 * data lines up to `\.`; a backslash outside quotes starts a meta-command that runs to the end
 * of the line. Pure: the caller decides what to do with meta-commands.
 */
export function splitSql(input: Buffer | string): SqlItem[] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (buf.length > MAX_SPLIT_BYTES) throw new RangeError(`SQL text of ${buf.length} bytes is larger than the ${MAX_SPLIT_BYTES} bytes the splitter can read`);
  const src = byteView(buf);
  const len = src.length;
  let pos = src.startsWith('\xef\xbb\xbf') ? 3 : 0;
  const cursor = new PositionCursor(src, pos);
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
        const copy = readCopyData(src, buf, statement, cursor);
        items.push(copy.item);
        pos = copy.next;
      } else {
        items.push(statement);
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
