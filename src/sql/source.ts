import path from 'node:path';
import type { SqlStatement } from './split.js';

/** A file's bytes plus how to name it in messages. */
export interface SourceFile {
  /** Relative to the repository, `/` separators (may start with `../` for includes outside it). */
  relativePath: string;
  absolutePath: string;
  buffer: Buffer;
  /** Set for files pulled in by `\i` / `\ir`: where. */
  includedFrom?: { source: SourceFile; line: number };
}

export interface SourceLocation {
  line: number;
  column: number;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/**
 * The repository root implied by a file's absolute and relative paths, so included files can be
 * named relative to the repository too.
 */
export function repositoryRootOf(absolutePath: string, relativePath: string): string {
  const up = path.relative(path.dirname(relativePath), '.');
  return path.resolve(path.dirname(absolutePath), up);
}

export function relativeToRoot(root: string, absolutePath: string): string {
  return toPosix(path.relative(root, absolutePath));
}

/** `db/a.sql:3` entries from the outermost file to the one that included this one. */
export function includeChain(source: SourceFile): string[] {
  const chain: string[] = [];
  for (let at = source.includedFrom; at; at = at.source.includedFrom) chain.unshift(`${at.source.relativePath}:${at.line}`);
  return chain;
}

/** The JS string index of the `count`-th character (code point) of `text`, as PostgreSQL counts positions. */
export function indexOfCodePoint(text: string, count: number): number {
  let i = 0;
  for (let n = 0; n < count && i < text.length; n++) {
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
  }
  return i;
}

function codePointLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** Line and column of a JS string index inside a statement's text. */
export function locationInStatement(statement: SqlStatement, index: number): SourceLocation {
  const before = statement.text.slice(0, Math.max(0, Math.min(index, statement.text.length)));
  const lastNewline = before.lastIndexOf('\n');
  if (lastNewline < 0) return { line: statement.line, column: statement.column + codePointLength(before) };
  let newlines = 0;
  for (let i = before.indexOf('\n'); i >= 0; i = before.indexOf('\n', i + 1)) newlines++;
  return { line: statement.line + newlines, column: codePointLength(before.slice(lastNewline + 1)) + 1 };
}

/** Text of a 1-based line of the file (without its line break). */
export function sourceLine(source: SourceFile, line: number): string | undefined {
  const buf = source.buffer;
  let start = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  for (let n = 1; n < line; n++) {
    const newline = buf.indexOf(10, start);
    if (newline < 0) return undefined;
    start = newline + 1;
  }
  const newline = buf.indexOf(10, start);
  let end = newline < 0 ? buf.length : newline;
  if (end > start && buf[end - 1] === 13) end--;
  return buf.toString('utf8', start, end);
}
