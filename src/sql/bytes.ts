import { constants } from 'node:buffer';

/**
 * Scanning primitives for the SQL splitter. The splitter reads the file's UTF-8 bytes through a
 * latin1 view (one character per byte, so string indexes are byte offsets): every character that
 * matters to SQL syntax is ASCII, and UTF-8 continuation bytes are all >= 0x80, so multi-byte
 * text can never be mistaken for a quote or a semicolon. Scanning a string lets V8's native
 * `indexOf` and regular expressions jump over long runs (much faster than a byte loop before the
 * JIT has warmed up), and byte offsets let COPY data be sent as zero-copy slices of the file.
 */

export const TAB = 9;
export const LF = 10;
export const VT = 11;
export const FF = 12;
export const CR = 13;
export const SPACE = 32;
export const DQUOTE = 34;
export const DOLLAR = 36;
export const QUOTE = 39;
export const LPAREN = 40;
export const RPAREN = 41;
export const STAR = 42;
export const MINUS = 45;
export const DOT = 46;
export const SLASH = 47;
export const SEMI = 59;
export const BACKSLASH = 92;

/** The largest file the splitter can view as a string. */
export const MAX_SPLIT_BYTES = constants.MAX_STRING_LENGTH;

/** A latin1 string whose characters are the buffer's bytes. */
export function byteView(buf: Buffer): string {
  return buf.toString('latin1');
}

export function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR || c === FF || c === VT;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** PostgreSQL's ident_start: letters, `_`, and any byte >= 0x80 (so unicode identifiers work). */
export function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || (c >= 128 && c <= 255);
}

/** ident_cont also allows digits and `$` (so `a$b$` is one identifier, not a dollar quote). */
export function isIdentCont(c: number): boolean {
  return isIdentStart(c) || isDigit(c) || c === DOLLAR;
}

function isTagCont(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** After an opening `'` or `"`: the index just past the closing one (doubled quotes escape), or -1 at end of input. */
export function skipQuoted(src: string, from: number, quote: string): number {
  let i = from;
  for (;;) {
    const close = src.indexOf(quote, i);
    if (close < 0) return -1;
    if (src.charCodeAt(close + 1) !== quote.charCodeAt(0)) return close + 1;
    i = close + 2;
  }
}

const ESCAPE_STRING_STOP = /['\\]/g;

/** After the `'` of an `E'...'` string: backslash escapes anything, `''` is a quote. */
export function skipEscapeString(src: string, from: number): number {
  ESCAPE_STRING_STOP.lastIndex = from;
  for (;;) {
    const match = ESCAPE_STRING_STOP.exec(src);
    if (match === null) return -1;
    const at = match.index;
    if (src.charCodeAt(at) === BACKSLASH) {
      ESCAPE_STRING_STOP.lastIndex = at + 2;
    } else if (src.charCodeAt(at + 1) === QUOTE) {
      ESCAPE_STRING_STOP.lastIndex = at + 2;
    } else {
      return at + 1;
    }
  }
}

const COMMENT_MARK = /\/\*|\*\//g;

/** After `/*`: the index past the matching `*\/`, honouring nesting as PostgreSQL does; -1 at end of input. */
export function skipBlockComment(src: string, from: number): number {
  let depth = 1;
  COMMENT_MARK.lastIndex = from;
  for (;;) {
    const match = COMMENT_MARK.exec(src);
    if (match === null) return -1;
    depth += match[0] === '/*' ? 1 : -1;
    if (depth === 0) return match.index + 2;
  }
}

/** At a `$` that does not continue an identifier: the end of an opening `$tag$`, or -1 when it opens none. */
export function dollarTagEnd(src: string, at: number): number {
  let j = at + 1;
  if (isIdentStart(src.charCodeAt(j))) {
    j++;
    while (isTagCont(src.charCodeAt(j))) j++;
  }
  return src.charCodeAt(j) === DOLLAR ? j + 1 : -1;
}

/** Number of characters (code points) in a range of UTF-8 bytes. */
export function codePointsIn(src: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    if ((src.charCodeAt(i) & 0xc0) !== 0x80) count++;
  }
  return count;
}

/**
 * Maps byte offsets to 1-based line and column (in characters). Offsets must be asked for in
 * non-decreasing order, which is how the splitter meets them; that keeps it linear on
 * files with very long lines or many lines. A window of a larger file starts at `line` with
 * `column` characters of its first line already before it.
 */
export class PositionCursor {
  private line: number;
  private lineStart: number;
  private nextNewline: number;
  private columnOffset: number;
  private columnCount: number;
  /** Characters before the window on its first line (0 once past it). */
  private lineStartCount: number;

  /** `start` skips a byte-order mark so it does not count as a column. */
  constructor(
    private readonly src: string,
    start = 0,
    line = 1,
    column = 0,
  ) {
    this.line = line;
    this.lineStart = this.columnOffset = start;
    this.columnCount = this.lineStartCount = column;
    this.nextNewline = src.indexOf('\n', start);
  }

  /** Moves to `offset`, the start of line `line`, already counted by the caller (COPY data). */
  jumpToLineStart(offset: number, line: number): void {
    this.line = line;
    this.lineStart = this.columnOffset = offset;
    this.columnCount = this.lineStartCount = 0;
    this.nextNewline = this.src.indexOf('\n', offset);
  }

  /** Moves to `offset` and returns its line; its column is then `column` (no object per call: called twice per statement). */
  lineAt(offset: number): number {
    while (this.nextNewline >= 0 && this.nextNewline < offset) {
      this.line++;
      this.lineStart = this.columnOffset = this.nextNewline + 1;
      this.columnCount = this.lineStartCount = 0;
      this.nextNewline = this.src.indexOf('\n', this.lineStart);
    }
    if (offset < this.columnOffset) {
      this.columnOffset = this.lineStart;
      this.columnCount = this.lineStartCount;
    }
    this.columnCount += codePointsIn(this.src, this.columnOffset, offset);
    this.columnOffset = offset;
    return this.line;
  }

  /** The 1-based column (in characters) of the offset `lineAt` last moved to. */
  get column(): number {
    return this.columnCount + 1;
  }

  at(offset: number): { line: number; column: number } {
    const line = this.lineAt(offset);
    return { line, column: this.column };
  }
}

/** Line and characters-before-it of `to`, counting from `from` at (`line`, `column`): where the next window starts. */
export function positionAfter(src: string, from: number, to: number, line: number, column: number): { line: number; column: number } {
  let lineStart = from;
  for (let at = src.indexOf('\n', from); at >= 0 && at < to; at = src.indexOf('\n', at + 1)) {
    line++;
    lineStart = at + 1;
    column = 0;
  }
  return { line, column: column + codePointsIn(src, lineStart, to) };
}
