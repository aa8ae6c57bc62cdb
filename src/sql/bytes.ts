/**
 * Byte-level scanning primitives for the SQL splitter. The splitter works on the file's bytes
 * (UTF-8): every character that matters to SQL syntax is ASCII, and UTF-8 continuation bytes are
 * all >= 0x80, so multi-byte text can never be mistaken for a quote or a semicolon. Working on
 * bytes lets COPY data be sent as zero-copy slices of the file.
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

export function isSpace(b: number | undefined): boolean {
  return b === SPACE || b === TAB || b === LF || b === CR || b === FF || b === VT;
}

export function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 48 && b <= 57;
}

/** PostgreSQL's ident_start: letters, `_`, and any byte >= 0x80 (so unicode identifiers work). */
export function isIdentStart(b: number | undefined): boolean {
  return b !== undefined && ((b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b === 95 || b >= 128);
}

/** ident_cont also allows digits and `$` (so `a$b$` is one identifier, not a dollar quote). */
export function isIdentCont(b: number | undefined): boolean {
  return isIdentStart(b) || isDigit(b) || b === DOLLAR;
}

function isTagCont(b: number | undefined): boolean {
  return isIdentStart(b) || isDigit(b);
}

/** After an opening `'` or `"`: the index just past the closing one (doubled quotes escape), or -1 at end of input. */
export function skipQuoted(buf: Buffer, from: number, quote: number): number {
  let i = from;
  for (;;) {
    const close = buf.indexOf(quote, i);
    if (close < 0) return -1;
    if (buf[close + 1] !== quote) return close + 1;
    i = close + 2;
  }
}

/** After the `'` of an `E'...'` string: backslash escapes anything, `''` is a quote. */
export function skipEscapeString(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) {
    const b = buf[i];
    if (b === BACKSLASH) {
      i++;
    } else if (b === QUOTE) {
      if (buf[i + 1] !== QUOTE) return i + 1;
      i++;
    }
  }
  return -1;
}

/** After `/*`: the index past the matching `*\/`, honouring nesting as PostgreSQL does; -1 at end of input. */
export function skipBlockComment(buf: Buffer, from: number): number {
  let depth = 1;
  for (let i = from; i < buf.length - 1; i++) {
    const b = buf[i];
    if (b === STAR && buf[i + 1] === SLASH) {
      i++;
      depth--;
      if (depth === 0) return i + 1;
    } else if (b === SLASH && buf[i + 1] === STAR) {
      i++;
      depth++;
    }
  }
  return -1;
}

/** At a `$` that does not continue an identifier: the end of an opening `$tag$`, or -1 when it opens none. */
export function dollarTagEnd(buf: Buffer, at: number): number {
  let j = at + 1;
  if (isIdentStart(buf[j])) {
    j++;
    while (isTagCont(buf[j])) j++;
  }
  return buf[j] === DOLLAR ? j + 1 : -1;
}

/** Number of characters (code points) in a UTF-8 byte range. */
export function codePointsIn(buf: Buffer, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    if (((buf[i] as number) & 0xc0) !== 0x80) count++;
  }
  return count;
}

/**
 * Maps byte offsets to 1-based line and column (in characters). Offsets must be asked for in
 * non-decreasing order, which is how the splitter meets them; that keeps it linear on
 * files with very long lines or many lines.
 */
export class PositionCursor {
  private line = 1;
  private lineStart = 0;
  private nextNewline: number;
  private columnOffset = 0;
  private columnCount = 0;

  /** `start` skips a byte-order mark so it does not count as a column. */
  constructor(
    private readonly buf: Buffer,
    start = 0,
  ) {
    this.lineStart = this.columnOffset = start;
    this.nextNewline = buf.indexOf(LF, start);
  }

  /** Moves to `offset`, the start of line `line`, already counted by the caller (COPY data). */
  jumpToLineStart(offset: number, line: number): void {
    this.line = line;
    this.lineStart = this.columnOffset = offset;
    this.columnCount = 0;
    this.nextNewline = this.buf.indexOf(LF, offset);
  }

  at(offset: number): { line: number; column: number } {
    while (this.nextNewline >= 0 && this.nextNewline < offset) {
      this.line++;
      this.lineStart = this.nextNewline + 1;
      this.nextNewline = this.buf.indexOf(LF, this.lineStart);
      this.columnOffset = this.lineStart;
      this.columnCount = 0;
    }
    if (offset < this.columnOffset) {
      this.columnOffset = this.lineStart;
      this.columnCount = 0;
    }
    this.columnCount += codePointsIn(this.buf, this.columnOffset, offset);
    this.columnOffset = offset;
    return { line: this.line, column: this.columnCount + 1 };
  }
}
