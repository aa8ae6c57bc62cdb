/**
 * Statements that act on the whole server rather than on the database they run in: roles,
 * role membership, server settings, tablespaces, other databases. In a template they would
 * silently reach every database on the developer's server and never travel with a deploy, so a
 * build refuses them and points at `[repository] cluster_setup`.
 */

const ROLE_WORDS = new Set(['ROLE', 'USER', 'GROUP']);

/** `ALTER ROLE name IN DATABASE db SET ...` is a setting of one database, not of the server. */
function inDatabase(words: string[]): boolean {
  const at = words.indexOf('IN');
  return at > 0 && words[at + 1] === 'DATABASE';
}

/**
 * What a statement does to the whole server, named as in a message (`CREATE ROLE`, `GRANT of a
 * role`), or undefined when it acts on its database only. Reads the statement's first words.
 */
export function serverWideStatement(words: string[]): string | undefined {
  const [first, second, third] = words;
  switch (first) {
    case 'CREATE':
    case 'DROP':
      if (second === 'USER' && third === 'MAPPING') return undefined;
      if ((second !== undefined && ROLE_WORDS.has(second)) || second === 'TABLESPACE' || second === 'DATABASE') return `${first} ${second}`;
      return undefined;
    case 'ALTER':
      if (second === 'SYSTEM' || second === 'TABLESPACE') return `ALTER ${second}`;
      if (second === 'USER' && third === 'MAPPING') return undefined;
      if (second !== undefined && ROLE_WORDS.has(second) && !inDatabase(words)) return `ALTER ${second}`;
      return undefined;
    case 'GRANT':
    case 'REVOKE':
      // Object privileges always name their object after ON; role membership has no ON.
      return words.includes('ON') ? undefined : `${first} of a role`;
    case 'COMMENT':
      return second === 'ON' && (third === 'ROLE' || third === 'TABLESPACE') ? `COMMENT ON ${third}` : undefined;
    default:
      return undefined;
  }
}

/** Role names a setup file creates (`CREATE ROLE name`, `CREATE USER "Name"`), as PostgreSQL folds them. */
export function createdRole(words: string[], text: string): string | undefined {
  if (words[0] !== 'CREATE' || words[1] === undefined || !ROLE_WORDS.has(words[1]) || words[2] === 'MAPPING') return undefined;
  const name = /^\s*CREATE\s+(?:ROLE|USER|GROUP)\s+(?:"((?:[^"]|"")+)"|([A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*))/i.exec(text);
  if (!name) return undefined;
  return name[1] !== undefined ? name[1].replaceAll('""', '"') : (name[2] as string).toLowerCase();
}

/** A token of a statement's head, as far as naming a database goes. */
interface HeadToken {
  /** Upper-cased for a bare word; the name for a quoted identifier; the variable's name for `:var` / `:"var"`. */
  text: string;
  kind: 'word' | 'quoted' | 'variable' | 'other';
  /** Where it starts and ends in the statement's text. */
  index: number;
  end: number;
}

const WORD = /[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/y;
/** Enough tokens for `GRANT ... ON DATABASE a, b, c TO ...` and `ALTER ROLE x IN DATABASE y`. */
const MAX_HEAD_TOKENS = 64;

/** The first tokens of a statement: words, quoted identifiers, psql variables, punctuation; comments skipped; stops at a string. */
function headTokens(text: string): HeadToken[] {
  const tokens: HeadToken[] = [];
  let at = 0;
  while (at < text.length && tokens.length < MAX_HEAD_TOKENS) {
    const c = text[at] as string;
    if (/\s/.test(c)) at++;
    else if (text.startsWith('--', at)) at = text.includes('\n', at) ? text.indexOf('\n', at) : text.length;
    else if (text.startsWith('/*', at)) at = text.includes('*/', at + 2) ? text.indexOf('*/', at + 2) + 2 : text.length;
    else if (c === '"') {
      const quoted = /"((?:[^"]|"")*)"/y;
      quoted.lastIndex = at;
      const match = quoted.exec(text);
      if (!match) break;
      tokens.push({ text: (match[1] as string).replaceAll('""', '"'), kind: 'quoted', index: at, end: quoted.lastIndex });
      at = quoted.lastIndex;
    } else if (c === ':' && text[at + 1] !== ':') {
      const variable = /:(?:"([^"]*)"|'([^']*)'|([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*))/y;
      variable.lastIndex = at;
      const match = variable.exec(text);
      if (!match) break;
      tokens.push({ text: match[1] ?? match[2] ?? (match[3] as string), kind: 'variable', index: at, end: variable.lastIndex });
      at = variable.lastIndex;
    } else if (c === "'" || c === '$' || c === ';') {
      break;
    } else {
      WORD.lastIndex = at;
      const match = WORD.exec(text);
      if (match) {
        tokens.push({ text: match[0].toUpperCase(), kind: 'word', index: at, end: WORD.lastIndex });
        at = WORD.lastIndex;
      } else {
        tokens.push({ text: c, kind: 'other', index: at, end: at + 1 });
        at++;
      }
    }
  }
  return tokens;
}

const isWord = (token: HeadToken | undefined, word: string): boolean => token?.kind === 'word' && token.text === word;

/** Indexes (in `tokens`) of the database names a statement's head names. */
function databaseNames(tokens: HeadToken[]): number[] {
  const [first, second] = tokens;
  if (isWord(first, 'ALTER') && isWord(second, 'DATABASE')) return [2];
  const after = (from: number, ...words: string[]): number => {
    for (let at = from; at + words.length <= tokens.length; at++) if (words.every((word, offset) => isWord(tokens[at + offset], word))) return at + words.length;
    return -1;
  };
  if (isWord(first, 'ALTER') && ROLE_WORDS.has(second?.text ?? '') && second?.kind === 'word') {
    const at = after(2, 'IN', 'DATABASE');
    return at < 0 ? [] : [at];
  }
  if (isWord(first, 'COMMENT') || (isWord(first, 'SECURITY') && isWord(second, 'LABEL'))) {
    const at = after(1, 'ON', 'DATABASE');
    return at < 0 ? [] : [at];
  }
  if (isWord(first, 'GRANT') || isWord(first, 'REVOKE')) {
    let at = after(1, 'ON', 'DATABASE');
    if (at < 0) return [];
    // ON DATABASE a, b, c TO ...
    const names = [at];
    while (tokens[at + 1]?.text === ',') names.push((at += 2));
    return names;
  }
  return [];
}

/** A database a statement names other than the one it runs in, as written. */
export interface OtherDatabase {
  /** The statement's kind (`ALTER DATABASE`, `GRANT ... ON DATABASE`). */
  statement: string;
  /** The name as written (`postgres`, `"My DB"`, `:other`). */
  written: string;
  /** Where the name starts in the statement's text. */
  index: number;
}

/**
 * The first database a statement names that is not written as the database it runs in: psql's
 * `:"DBNAME"` (or `:DBNAME`) is that database in both runners; any other name, even the
 * template's final name, is another database on the server (the template a build replaces is
 * dropped with whatever was set on it). Undefined when the statement names no other database.
 */
export function otherDatabase(statement: { text: string; words: string[] }): OtherDatabase | undefined {
  const first = statement.words[0];
  if (first !== 'ALTER' && first !== 'COMMENT' && first !== 'SECURITY' && first !== 'GRANT' && first !== 'REVOKE') return undefined;
  const tokens = headTokens(statement.text);
  for (const at of databaseNames(tokens)) {
    const name = tokens[at];
    if (name === undefined) continue;
    if (name.kind === 'variable' && name.text === 'DBNAME' && statement.text[name.index + 1] !== "'") continue;
    const kind = first === 'GRANT' || first === 'REVOKE' ? `${first} ... ON DATABASE` : first === 'ALTER' && tokens[1]?.text !== 'DATABASE' ? `ALTER ${tokens[1]?.text ?? ''} ... IN DATABASE` : first === 'SECURITY' ? 'SECURITY LABEL ON DATABASE' : first === 'COMMENT' ? 'COMMENT ON DATABASE' : 'ALTER DATABASE';
    return { statement: kind, written: statement.text.slice(name.index, name.end), index: name.index };
  }
  return undefined;
}
