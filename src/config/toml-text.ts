/**
 * Just enough of a TOML lexer to find table headers (`[a.b]`, `[[a]]`) in the text, so an
 * edit can touch one table's lines and leave every other byte (comments, blank lines, key
 * order, quoting) as the user wrote it. Values are skipped, not parsed: the caller re-loads
 * the edited text with the real parser before it is written.
 */

export interface TomlHeader {
  /** Index into the line array. */
  line: number;
  kind: 'table' | 'array';
  /** Key path, quotes removed: `[remotes."a b".deploy]` -> ['remotes', 'a b', 'deploy']. */
  path: string[];
}

/** Lines with their terminators kept, so joining them gives back the text byte for byte. */
export function splitLines(text: string): string[] {
  const lines = text.match(/[^\n]*\n|[^\n]+$/g);
  return lines ?? [];
}

export function isBlank(line: string | undefined): boolean {
  return line !== undefined && line.trim() === '';
}

export function isComment(line: string | undefined): boolean {
  return line !== undefined && line.trimStart().startsWith('#');
}

/** Index just past a basic string ("..."), `start` being the opening quote. */
function skipBasic(line: string, start: number): number {
  for (let i = start + 1; i < line.length; i++) {
    if (line[i] === '\\') i++;
    else if (line[i] === '"') return i + 1;
  }
  return line.length;
}

/** Where a multi-line string closes in `line` from `from`, or -1. */
function multilineEnd(line: string, from: number, delimiter: string): number {
  for (let i = from; i < line.length; i++) {
    if (delimiter === '"""' && line[i] === '\\') {
      i++;
      continue;
    }
    if (line.startsWith(delimiter, i)) {
      let end = i + 3;
      // `""""` closes with one quote of content before the delimiter.
      while (end < line.length && end - i < 5 && line[end] === delimiter[0]) end++;
      return end;
    }
  }
  return -1;
}

function parseHeaderPath(inner: string): string[] {
  const path: string[] = [];
  let i = 0;
  while (i < inner.length) {
    const ch = inner[i] as string;
    if (ch === ' ' || ch === '\t' || ch === '.') {
      i++;
    } else if (ch === '"') {
      const end = skipBasic(inner, i);
      path.push(JSON.parse(inner.slice(i, end)) as string);
      i = end;
    } else if (ch === "'") {
      const end = inner.indexOf("'", i + 1);
      path.push(inner.slice(i + 1, end));
      i = end + 1;
    } else {
      const match = /^[A-Za-z0-9_-]+/.exec(inner.slice(i));
      if (!match) break;
      path.push(match[0]);
      i += match[0].length;
    }
  }
  return path;
}

/** Parses a header line (`[a.b]  # comment`); undefined when the line is not one. */
function parseHeader(line: string, index: number): TomlHeader | undefined {
  const trimmed = line.trimStart();
  const kind = trimmed.startsWith('[[') ? 'array' : 'table';
  const open = kind === 'array' ? 2 : 1;
  let i = open;
  while (i < trimmed.length) {
    const ch = trimmed[i];
    if (ch === '"') i = skipBasic(trimmed, i);
    else if (ch === "'") i = trimmed.indexOf("'", i + 1) + 1 || trimmed.length;
    else if (ch === ']') break;
    else i++;
  }
  return { line: index, kind, path: parseHeaderPath(trimmed.slice(open, i)) };
}

/**
 * For each line, whether it starts outside any multi-line value (string, array, inline table):
 * only such lines can be a table header or a `key = value` of their table.
 */
export function topLevelLines(lines: readonly string[]): boolean[] {
  const topLevel: boolean[] = [];
  let multiline: string | undefined;
  let depth = 0;
  lines.forEach((line) => {
    topLevel.push(multiline === undefined && depth === 0);
    let i = 0;
    if (multiline) {
      const end = multilineEnd(line, 0, multiline);
      if (end < 0) return;
      multiline = undefined;
      i = end;
    } else if (depth === 0 && line.trimStart().startsWith('[')) {
      return;
    }
    while (i < line.length) {
      const ch = line[i];
      if (ch === '#') break;
      if (line.startsWith('"""', i) || line.startsWith("'''", i)) {
        const delimiter = line.slice(i, i + 3);
        const end = multilineEnd(line, i + 3, delimiter);
        if (end < 0) {
          multiline = delimiter;
          break;
        }
        i = end;
      } else if (ch === '"') {
        i = skipBasic(line, i);
      } else if (ch === "'") {
        i = line.indexOf("'", i + 1) + 1 || line.length;
      } else {
        if (ch === '[' || ch === '{') depth++;
        else if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
        i++;
      }
    }
  });
  return topLevel;
}

/** Every table header in the text, in order. */
export function findHeaders(lines: readonly string[]): TomlHeader[] {
  const topLevel = topLevelLines(lines);
  const headers: TomlHeader[] = [];
  lines.forEach((line, index) => {
    if (topLevel[index] && line.trimStart().startsWith('[')) headers.push(parseHeader(line, index) as TomlHeader);
  });
  return headers;
}

/** Where a one-line value starts and ends in a `key = value` line; undefined when the value spans lines. */
export function valueSpan(line: string): { start: number; end: number } | undefined {
  const equals = /^\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')\s*=\s*/.exec(line);
  if (!equals) return undefined;
  const start = equals[0].length;
  const rest = line.slice(start);
  if (rest.startsWith('"""') || rest.startsWith("'''") || rest.startsWith('[') || rest.startsWith('{')) return undefined;
  if (rest.startsWith('"')) return { start, end: skipBasic(line, start) };
  if (rest.startsWith("'")) return { start, end: line.indexOf("'", start + 1) + 1 || line.length };
  const bare = /^[^\s#]+/.exec(rest);
  return bare ? { start, end: start + bare[0].length } : undefined;
}

/** The key of a `key = value` line (quotes removed), or undefined. */
export function lineKey(line: string): string | undefined {
  const match = /^\s*([A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')\s*=/.exec(line);
  if (!match) return undefined;
  const key = match[1] as string;
  if (key.startsWith('"')) return JSON.parse(key) as string;
  return key.startsWith("'") ? key.slice(1, -1) : key;
}

/**
 * The lines a table owns: its header through its last key, with comments between its keys,
 * and the comment paragraph right above its header (touching it, a blank line above it):
 * that paragraph describes the table. Trailing blank lines are not its own; neither is a
 * trailing comment paragraph that sits apart (a blank line above it) or touches the next
 * header: such comments describe what follows, and removing a table must not take them.
 */
export function ownedRange(lines: readonly string[], headers: readonly TomlHeader[], index: number): { start: number; end: number } {
  const header = headers[index] as TomlHeader;
  const next = headers[index + 1];
  const blockEnd = next ? next.line : lines.length;
  let start = header.line;
  let above = start;
  while (above > 0 && isComment(lines[above - 1])) above--;
  if (above < start && (above === 0 || isBlank(lines[above - 1]))) start = above;
  let end = blockEnd;
  for (;;) {
    while (end > header.line + 1 && isBlank(lines[end - 1])) end--;
    let runStart = end;
    while (runStart > header.line + 1 && isComment(lines[runStart - 1])) runStart--;
    if (runStart === end) break;
    const touchesNext = next !== undefined && end === blockEnd;
    const apartAbove = isBlank(lines[runStart - 1]);
    if (!touchesNext && !apartAbove) break;
    end = runStart;
  }
  return { start, end };
}

/**
 * Removes line ranges (sorted or not); where a removal leaves two blank-line separators
 * meeting (or a blank line at the end of the file), one of them goes too, so that adding
 * a table and removing it again gives back the original text.
 */
export function removeRanges(lines: readonly string[], ranges: ReadonlyArray<{ start: number; end: number }>): string[] {
  const result = [...lines];
  for (const { start, end } of [...ranges].sort((a, b) => b.start - a.start)) {
    let from = start;
    if (from > 0 && isBlank(result[from - 1]) && (end >= result.length || isBlank(result[end]))) from--;
    result.splice(from, end - from);
  }
  return result;
}

/** A TOML basic string: JSON's escaping, plus DEL, which TOML (unlike JSON) forbids raw. */
export function tomlString(value: string): string {
  return JSON.stringify(value).replaceAll('\u007f', '\\u007f');
}
