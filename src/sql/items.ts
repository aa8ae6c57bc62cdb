/** What the splitter finds in a file. */

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
  /**
   * Upper-cased bare words at parenthesis depth 0, enough to classify the statement: the first
   * 16 for COPY/ALTER/CREATE/DROP/REINDEX/GRANT/REVOKE, only the first for INSERT, UPDATE,
   * DELETE, SELECT and the like (fewer strings on big data files), the first 3 for others.
   */
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
  /** Byte offset of the end of its line (the line break, or the end of the input). */
  end: number;
  line: number;
  column: number;
  endLine: number;
  /** Found in the middle of a statement (`SELECT ... \gexec`). */
  midStatement: boolean;
}

export type SqlItem = SqlStatement | SqlCopy | SqlMetaCommand;

/** `COPY ... FROM STDIN` at depth 0 (a query in parentheses is at depth 1). */
export function isCopyFromStdin(words: string[]): boolean {
  if (words[0] !== 'COPY') return false;
  for (let i = 1; i < words.length - 1; i++) if (words[i] === 'FROM' && words[i + 1] === 'STDIN') return true;
  return false;
}
