import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { SqlStatement } from './split.js';

/** A file being run, and how to name it in messages. */
export interface SourceFile {
  /** Relative to the repository, `/` separators. */
  relativePath: string;
  absolutePath: string;
  /** Its bytes when they are in memory (SQL not on disk, small files); a streamed file is read again only for an error's excerpt. */
  buffer?: Buffer;
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

/** A repository's name as it prefixes file names (`core:`). */
const REPOSITORY_PREFIX = /^[A-Za-z][A-Za-z0-9_-]{0,62}:$/;

/**
 * How a file in `root` reached from `from` is named: relative to the root, with the repository
 * prefix `from` has (`core:0_schema/a.sql` includes `core:0_schema/parts/b.sql`), so a project
 * with several repositories names included files by their repository too.
 */
export function nameInRoot(root: string, from: { relativePath: string; absolutePath: string }, absolutePath: string): string {
  const own = relativeToRoot(root, path.resolve(from.absolutePath));
  const prefix = from.relativePath.endsWith(own) ? from.relativePath.slice(0, from.relativePath.length - own.length) : '';
  return `${REPOSITORY_PREFIX.test(prefix) ? prefix : ''}${relativeToRoot(root, absolutePath)}`;
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

/** Text of a 1-based line of the file (without its line break), from memory or read again from disk. */
export function sourceLine(source: SourceFile, line: number): string | undefined {
  const bytes = source.buffer ? lineOf(source.buffer, line) : lineFromDisk(source.absolutePath, line);
  if (bytes === undefined) return undefined;
  const start = line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const end = bytes.length > start && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
  return bytes.toString('utf8', start, end);
}

function lineOf(buf: Buffer, line: number): Buffer | undefined {
  let start = 0;
  for (let n = 1; n < line; n++) {
    const newline = buf.indexOf(10, start);
    if (newline < 0) return undefined;
    start = newline + 1;
  }
  const newline = buf.indexOf(10, start);
  return buf.subarray(start, newline < 0 ? buf.length : newline);
}

/** One line of a file, read through a chunk at a time so a large file is never held (an error path only). */
function lineFromDisk(file: string, line: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const chunk = Buffer.allocUnsafe(1 << 16);
    const parts: Buffer[] = [];
    let current = 1;
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return current === line ? Buffer.concat(parts) : undefined;
      const data = chunk.subarray(0, read);
      for (let at = 0; at < read; ) {
        const newline = data.indexOf(10, at);
        if (current === line) parts.push(Buffer.from(data.subarray(at, newline < 0 ? read : newline)));
        if (newline < 0) break;
        if (current === line) return Buffer.concat(parts);
        current++;
        at = newline + 1;
      }
    }
  } finally {
    closeSync(fd);
  }
}
