/**
 * psql variables, with psql's own rules (src/fe_utils/psqlscan.l): in SQL text, `:name` is
 * replaced by the value (itself scanned for further variables, never the one being expanded),
 * `:'name'` by the value quoted as a literal, `:"name"` as an identifier, `:{?name}` by TRUE or
 * FALSE; never inside quotes, dollar quotes or comments, never `::`; a name that is not a
 * variable is left exactly as written.
 */

/** A variable reference found in SQL text (JS string indexes). */
export interface VariableReference {
  start: number;
  end: number;
  name: string;
  form: 'plain' | 'literal' | 'identifier' | 'test';
}

/** Where a substituted value sits in the new text, and the reference it replaced in the old. */
interface Replacement {
  newStart: number;
  newEnd: number;
  oldStart: number;
  oldEnd: number;
}

/** SQL text after substitution, and how to map an index in it back to the source text. */
export interface Substituted {
  text: string;
  /** JS string index in the source text for an index in `text` (inside a value: the reference's start). */
  toSource(index: number): number;
}

/** psql's variable_char: ASCII letters, digits, `_`, and any non-ASCII character. */
export function isVariableChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c >= 128;
}

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}

function isIdentCont(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
}

function nameEnd(text: string, from: number): number {
  let at = from;
  while (at < text.length && isVariableChar(text.charCodeAt(at))) at++;
  return at;
}

/** Past a quoted run opened before `from`; `''` / `""` continue it, `\` escapes in an E'' string. */
function skipQuote(text: string, from: number, quote: string, escapes: boolean): number {
  for (let at = from; at < text.length; at++) {
    const c = text[at];
    if (escapes && c === '\\') at++;
    else if (c === quote) {
      if (text[at + 1] !== quote) return at + 1;
      at++;
    }
  }
  return text.length;
}

/** The `$tag$` (or `$$`) opening a dollar quote at `at`, if one does. */
function dollarTag(text: string, at: number): string | undefined {
  let end = at + 1;
  if (isIdentStart(text.charCodeAt(end))) {
    end++;
    while (end < text.length && isIdentCont(text.charCodeAt(end)) && text[end] !== '$') end++;
  }
  return text[end] === '$' ? text.slice(at, end + 1) : undefined;
}

/** The variable reference that starts at the `:` at `at`, if one does (`::` and `:=` never do). */
function referenceAt(text: string, at: number): VariableReference | undefined {
  const next = text[at + 1];
  if (next === "'" || next === '"') {
    const end = nameEnd(text, at + 2);
    if (end > at + 2 && text[end] === next) return { start: at, end: end + 1, name: text.slice(at + 2, end), form: next === "'" ? 'literal' : 'identifier' };
    return undefined;
  }
  if (next === '{' && text[at + 2] === '?') {
    const end = nameEnd(text, at + 3);
    if (end > at + 3 && text[end] === '}') return { start: at, end: end + 1, name: text.slice(at + 3, end), form: 'test' };
    return undefined;
  }
  const end = nameEnd(text, at + 1);
  return end > at + 1 ? { start: at, end, name: text.slice(at + 1, end), form: 'plain' } : undefined;
}

/** Every variable reference in SQL text, outside quotes, dollar quotes and comments, in order. */
export function findReferences(text: string): VariableReference[] {
  const found: VariableReference[] = [];
  if (!text.includes(':')) return found;
  let at = 0;
  while (at < text.length) {
    const c = text.charCodeAt(at);
    const ch = text[at];
    if (ch === '-' && text[at + 1] === '-') {
      const newline = text.indexOf('\n', at);
      at = newline < 0 ? text.length : newline;
    } else if (ch === '/' && text[at + 1] === '*') {
      let depth = 1;
      at += 2;
      while (at < text.length && depth > 0) {
        if (text[at] === '/' && text[at + 1] === '*') {
          depth++;
          at += 2;
        } else if (text[at] === '*' && text[at + 1] === '/') {
          depth--;
          at += 2;
        } else {
          at++;
        }
      }
    } else if (ch === "'") {
      at = skipQuote(text, at + 1, "'", false);
    } else if (ch === '"') {
      at = skipQuote(text, at + 1, '"', false);
    } else if (ch === '$') {
      const tag = dollarTag(text, at);
      if (tag) {
        const close = text.indexOf(tag, at + tag.length);
        at = close < 0 ? text.length : close + tag.length;
      } else {
        at++;
        while (at < text.length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) at++;
      }
    } else if (isIdentStart(c)) {
      // E'...' (escapes), U&'...' / U&"..." (standard), B'', X'', N'': a one-letter prefix glued to the quote.
      const next = text[at + 1];
      if ((ch === 'E' || ch === 'e') && next === "'") at = skipQuote(text, at + 2, "'", true);
      else if ((ch === 'U' || ch === 'u') && next === '&' && (text[at + 2] === "'" || text[at + 2] === '"')) at = skipQuote(text, at + 3, text[at + 2] as string, false);
      else {
        at++;
        while (at < text.length && isIdentCont(text.charCodeAt(at))) at++;
      }
    } else if (ch === ':') {
      if (text[at + 1] === ':' || text[at + 1] === '=') {
        at += 2;
        continue;
      }
      const reference = referenceAt(text, at);
      if (reference) {
        found.push(reference);
        at = reference.end;
      } else at++;
    } else {
      at++;
    }
  }
  return found;
}

/** libpq's PQescapeLiteral: `'...'` with `''`; with backslashes doubled and ` E` before when there are any. */
export function quoteLiteral(value: string): string {
  const body = value.replaceAll("'", "''");
  return value.includes('\\') ? ` E'${body.replaceAll('\\', '\\\\')}'` : `'${body}'`;
}

/** libpq's PQescapeIdentifier: always quoted, `""` for `"`. */
export function quoteIdentifier(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

/** The replacement text for a reference, or undefined to leave it as written. */
export function expandReference(reference: VariableReference, variables: ReadonlyMap<string, string>, expanding: readonly string[] = []): string | undefined {
  const value = variables.get(reference.name);
  switch (reference.form) {
    case 'test':
      return value === undefined ? 'FALSE' : 'TRUE';
    case 'literal':
      return value === undefined ? undefined : quoteLiteral(value);
    case 'identifier':
      return value === undefined ? undefined : quoteIdentifier(value);
    default:
      // psql scans a value for variables again, but never the one it is expanding (it warns and copies it).
      if (value === undefined || expanding.includes(reference.name)) return undefined;
      return substituteText(value, variables, [...expanding, reference.name]);
  }
}

function substituteText(text: string, variables: ReadonlyMap<string, string>, expanding: readonly string[]): string {
  const references = findReferences(text);
  if (references.length === 0) return text;
  const parts: string[] = [];
  let at = 0;
  for (const reference of references) {
    const value = expandReference(reference, variables, expanding);
    if (value === undefined) continue;
    parts.push(text.slice(at, reference.start), value);
    at = reference.end;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

const IDENTITY: Substituted['toSource'] = (index) => index;

/** SQL text with its variables substituted, mapping indexes back for error locations. */
export function substitute(text: string, variables: ReadonlyMap<string, string>, references = findReferences(text)): Substituted {
  if (references.length === 0) return { text, toSource: IDENTITY };
  const parts: string[] = [];
  const replacements: Replacement[] = [];
  let at = 0;
  let length = 0;
  for (const reference of references) {
    const value = expandReference(reference, variables);
    if (value === undefined) continue;
    const before = text.slice(at, reference.start);
    parts.push(before, value);
    length += before.length;
    replacements.push({ newStart: length, newEnd: length + value.length, oldStart: reference.start, oldEnd: reference.end });
    length += value.length;
    at = reference.end;
  }
  if (replacements.length === 0) return { text, toSource: IDENTITY };
  parts.push(text.slice(at));
  return {
    text: parts.join(''),
    toSource: (index) => {
      let shift = 0;
      for (const r of replacements) {
        if (index < r.newStart) break;
        if (index < r.newEnd) return r.oldStart;
        shift = r.oldEnd - r.newEnd;
      }
      return index + shift;
    },
  };
}
