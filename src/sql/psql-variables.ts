import type pg from 'pg';
import { expandReference, isVariableChar, type VariableReference } from './variables.js';

/**
 * The variables psql (15) has before it reads a file, as the psql runner starts it
 * (`-X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose`), without the ones set from the connection.
 */
export const PSQL_DEFAULTS: Readonly<Record<string, string>> = {
  AUTOCOMMIT: 'on',
  COMP_KEYWORD_CASE: 'preserve-upper',
  ECHO: 'none',
  ECHO_HIDDEN: 'off',
  FETCH_COUNT: '0',
  HIDE_TABLEAM: 'off',
  HIDE_TOAST_COMPRESSION: 'off',
  HISTCONTROL: 'none',
  HISTSIZE: '500',
  IGNOREEOF: '0',
  LAST_ERROR_MESSAGE: '',
  LAST_ERROR_SQLSTATE: '00000',
  ON_ERROR_ROLLBACK: 'off',
  ON_ERROR_STOP: '1',
  PROMPT1: '%/%R%x%# ',
  PROMPT2: '%/%R%x%# ',
  PROMPT3: '>> ',
  QUIET: 'on',
  SHOW_ALL_RESULTS: 'on',
  SHOW_CONTEXT: 'errors',
  SINGLELINE: 'off',
  SINGLESTEP: 'off',
  VERBOSITY: 'verbose',
};

/** Variables psql sets after each query or from its own build: their values exist only inside psql. */
const PSQL_ONLY: Readonly<Record<string, string>> = {
  ROW_COUNT: 'is set by psql after each query',
  ERROR: 'is set by psql after each query',
  SQLSTATE: 'is set by psql after each query',
  LAST_ERROR_MESSAGE: 'is set by psql after each failed query',
  LAST_ERROR_SQLSTATE: 'is set by psql after each failed query',
  SHELL_ERROR: 'is set by psql after each shell command',
  SHELL_EXIT_CODE: 'is set by psql after each shell command',
  VERSION: "is psql's own version",
  VERSION_NAME: "is psql's own version",
  VERSION_NUM: "is psql's own version",
};

/** Why the in-process runner cannot give a variable the value psql would, or undefined when it can. */
export function psqlOnlyVariable(name: string): string | undefined {
  return PSQL_ONLY[name];
}

/** psql's variables for a connection: the ones psql sets from it, with psql's meaning. */
export async function connectionVariables(client: pg.Client): Promise<Record<string, string>> {
  const row = (
    await client.query<{ db: string; usr: string; encoding: string; name: string; num: string }>(
      "SELECT pg_catalog.current_database() AS db, session_user AS usr, pg_catalog.current_setting('client_encoding') AS encoding, pg_catalog.current_setting('server_version') AS name, pg_catalog.current_setting('server_version_num') AS num",
    )
  ).rows[0] as { db: string; usr: string; encoding: string; name: string; num: string };
  const params = client as unknown as { host?: string; port?: number };
  return {
    DBNAME: row.db,
    USER: row.usr,
    // PQhost: the host or socket folder connected to; PQport: the port.
    HOST: params.host ?? 'localhost',
    PORT: String(params.port ?? 5432),
    ENCODING: row.encoding,
    SERVER_VERSION_NAME: row.name,
    SERVER_VERSION_NUM: row.num,
  };
}

/** psql's behaviour variables whose value changes how a file runs: `\set` of them needs psql itself. */
const BEHAVIOUR = new Set(['AUTOCOMMIT', 'ON_ERROR_ROLLBACK', 'SINGLELINE', 'SINGLESTEP']);

function isTrue(value: string): boolean {
  const v = value.trim().toLowerCase();
  return v.length > 0 && (['true', 'yes', 'on'].some((word) => word.startsWith(v) && (v.length > 1 || word !== 'on')) || v === '1');
}

/** A `\set` / `\unset` the in-process runner cannot follow, or undefined when it can. */
export function unsupportedSetting(name: string, value: string | undefined): string | undefined {
  const command = value === undefined ? '\\unset' : '\\set';
  if (BEHAVIOUR.has(name)) return `${command} ${name} (it changes how psql runs the file)`;
  if (name === 'ON_ERROR_STOP' && (value === undefined || !isTrue(value))) return `${command} ON_ERROR_STOP (psql would go on after an error; the in-process runner always stops)`;
  return undefined;
}

/** A meta-command's arguments as psql's slash-command lexer reads them, or why they cannot be read in-process. */
export type SlashArguments = { values: string[] } | { problem: string };

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', b: '\b', r: '\r', f: '\f' };

/** Reads one argument from `at` (past leading spaces); returns it and where it ended. */
function readArgument(text: string, start: number, variables: ReadonlyMap<string, string>): { value: string; end: number } | { problem: string } {
  let out = '';
  let at = start;
  while (at < text.length) {
    const c = text[at] as string;
    if (c === ' ' || c === '\t' || c === '\\') break;
    if (c === '`') return { problem: 'with a `shell command`' };
    if (c === "'") {
      at++;
      for (;;) {
        if (at >= text.length) return { problem: 'with an unterminated quoted string' };
        const q = text[at] as string;
        if (q === "'") {
          if (text[at + 1] !== "'") break;
          out += "'";
          at += 2;
        } else if (q === '\\') {
          const next = text[at + 1] ?? '';
          const octal = /^[0-7]{1,3}/.exec(text.slice(at + 1, at + 4))?.[0];
          const hex = next === 'x' ? /^[0-9A-Fa-f]{1,2}/.exec(text.slice(at + 2, at + 4))?.[0] : undefined;
          if (octal) {
            out += String.fromCharCode(parseInt(octal, 8) & 0xff);
            at += 1 + octal.length;
          } else if (hex) {
            out += String.fromCharCode(parseInt(hex, 16));
            at += 2 + hex.length;
          } else {
            out += SIMPLE_ESCAPES[next] ?? next;
            at += 2;
          }
        } else {
          out += q;
          at++;
        }
      }
      at++;
    } else if (c === '"') {
      const close = text.indexOf('"', at + 1);
      if (close < 0) return { problem: 'with an unterminated quoted string' };
      out += text.slice(at, close + 1);
      at = close + 1;
    } else if (c === ':') {
      const reference = slashReference(text, at);
      if (reference) {
        // Here a plain value is inserted as it is, not scanned again; an unknown name stays as written.
        const value = reference.form === 'plain' ? variables.get(reference.name) : expandReference(reference, variables);
        out += value ?? text.slice(reference.start, reference.end);
        at = reference.end;
      } else {
        out += c;
        at++;
      }
    } else {
      out += c;
      at++;
    }
  }
  return { value: out, end: at };
}

function slashReference(text: string, at: number): VariableReference | undefined {
  const next = text[at + 1];
  let from = at + 1;
  let form: VariableReference['form'] = 'plain';
  if (next === "'" || next === '"') {
    form = next === "'" ? 'literal' : 'identifier';
    from = at + 2;
  } else if (next === '{' && text[at + 2] === '?') {
    form = 'test';
    from = at + 3;
  }
  let end = from;
  while (end < text.length && isVariableChar(text.charCodeAt(end))) end++;
  if (end === from) return undefined;
  const closer = form === 'literal' ? "'" : form === 'identifier' ? '"' : form === 'test' ? '}' : undefined;
  if (closer !== undefined && text[end] !== closer) return undefined;
  return { start: at, end: closer ? end + 1 : end, name: text.slice(from, end), form };
}

/** All of a meta-command's arguments (psql's OT_NORMAL), with variables expanded as psql expands them there. */
export function slashArguments(args: string, variables: ReadonlyMap<string, string>): SlashArguments {
  const values: string[] = [];
  let at = 0;
  for (;;) {
    while (at < args.length && (args[at] === ' ' || args[at] === '\t')) at++;
    if (at >= args.length) return { values };
    if (args[at] === '\\') return { problem: 'followed by another meta-command on the same line' };
    const read = readArgument(args, at, variables);
    if ('problem' in read) return read;
    values.push(read.value);
    at = read.end;
  }
}

/** Applies `\set NAME value...` (values concatenated) or `\unset NAME`; returns a problem when it cannot. */
export function applySetCommand(command: string, args: string, variables: Map<string, string>): string | undefined {
  const parsed = slashArguments(args, variables);
  if ('problem' in parsed) return `${command} ${parsed.problem}`;
  const [name, ...values] = parsed.values;
  // `\set` alone lists the variables: nothing to do in a build.
  if (name === undefined) return command === '\\unset' ? '\\unset without a variable name' : undefined;
  if (!/^[A-Za-z0-9_\u0080-\uffff]+$/.test(name)) return `${command} ${name} (not a valid variable name)`;
  const value = command === '\\unset' ? undefined : values.join('');
  const unsupported = unsupportedSetting(name, value);
  if (unsupported) return unsupported;
  if (value === undefined) {
    if (PSQL_DEFAULTS[name] !== undefined) variables.set(name, PSQL_DEFAULTS[name] as string);
    else variables.delete(name);
  } else {
    variables.set(name, value);
  }
  return undefined;
}
