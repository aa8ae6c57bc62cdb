import { LPAREN, QUOTE, RPAREN, isIdentCont, isSpace, skipQuoted } from './bytes.js';
import type { Unclosed } from './items.js';

/** The splitter's helpers for the statement being read: its words, and the fast path over its bulk. */

const MAX_WORDS = 16;
const SHORT_WORDS = 3;
/** Statements whose first 16 words are kept (to classify them); GRANT/REVOKE: to tell role membership from object privileges. */
const FULL_WORDS = new Set(['COPY', 'ALTER', 'CREATE', 'DROP', 'REINDEX', 'GRANT', 'REVOKE']);
/** Statements classified by their first word alone: the bulk of data files, so no more words are made for them. */
const ONE_WORD = new Set(['INSERT', 'UPDATE', 'DELETE', 'SELECT', 'WITH', 'VALUES', 'MERGE', 'TABLE']);

export interface Open {
  start: number;
  line: number;
  column: number;
  lastEnd: number;
  words: string[];
  depth: number;
  /** CREATE [OR REPLACE] FUNCTION|PROCEDURE: track BEGIN ... END (SQL-standard bodies hold `;`). */
  routine: boolean;
  beginDepth: number;
  unclosed: Unclosed | undefined;
}

/** Whether bare words of the statement are still needed (to classify it, or to follow BEGIN ... END). */
export function wantsWords(s: Open): boolean {
  if (s.depth !== 0) return false;
  const first = s.words[0];
  if (first === undefined || s.routine) return true;
  return s.words.length < (FULL_WORDS.has(first) ? MAX_WORDS : ONE_WORD.has(first) ? 1 : SHORT_WORDS);
}

function isRoutineHead(words: string[]): boolean {
  if (words[0] !== 'CREATE') return false;
  const kind = words[1] === 'OR' && words[2] === 'REPLACE' ? words[3] : words[1];
  return kind === 'FUNCTION' || kind === 'PROCEDURE';
}

/** Records a bare word; inside CREATE FUNCTION/PROCEDURE follows BEGIN/CASE ... END like psql does. */
export function noteWord(s: Open, word: string): void {
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
export function escapePrefixed(src: string, at: number, start: number): boolean {
  return at - 1 > start && (src.charCodeAt(at - 1) | 0x20) === 101 && !isIdentCont(src.charCodeAt(at - 2));
}

/**
 * The bulk of big statements (VALUES lists), once their words are known: jumps over plain text,
 * plain strings and parentheses natively; returns where the main loop must look (or the end).
 */
export function skipBulk(src: string, s: Open, from: number): number {
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

