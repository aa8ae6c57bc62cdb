/**
 * Variables psql has of its own: set from the connection (`DBNAME`, `USER`, `HOST`, ...), after
 * each query (`ROW_COUNT`, `ERROR`, ...), or read to decide how it runs (`AUTOCOMMIT`,
 * `ON_ERROR_STOP`, ...). dbfast.toml may not set them: psql would overwrite or obey them.
 */
export const PSQL_OWN_VARIABLES: ReadonlySet<string> = new Set([
  'DBNAME', 'USER', 'HOST', 'PORT', 'ENCODING', 'SERVER_VERSION_NAME', 'SERVER_VERSION_NUM', 'SERVICE',
  'ROW_COUNT', 'ERROR', 'SQLSTATE', 'LAST_ERROR_MESSAGE', 'LAST_ERROR_SQLSTATE', 'SHELL_ERROR', 'SHELL_EXIT_CODE',
  'VERSION', 'VERSION_NAME', 'VERSION_NUM',
  'AUTOCOMMIT', 'COMP_KEYWORD_CASE', 'ECHO', 'ECHO_HIDDEN', 'FETCH_COUNT', 'HIDE_TABLEAM', 'HIDE_TOAST_COMPRESSION',
  'HISTCONTROL', 'HISTFILE', 'HISTSIZE', 'IGNOREEOF', 'ON_ERROR_ROLLBACK', 'ON_ERROR_STOP', 'PROMPT1', 'PROMPT2', 'PROMPT3',
  'QUIET', 'SHOW_ALL_RESULTS', 'SHOW_CONTEXT', 'SINGLELINE', 'SINGLESTEP', 'VERBOSITY', 'WATCH_INTERVAL',
]);

const CONNECTION = new Set(['DBNAME', 'USER', 'HOST', 'PORT', 'ENCODING', 'SERVER_VERSION_NAME', 'SERVER_VERSION_NUM', 'SERVICE']);

/** Why `name` cannot be a variable in dbfast.toml, or undefined when it can. */
export function variableNameProblem(name: string): string | undefined {
  if (!/^[A-Za-z0-9_\u0080-\uffff]+$/.test(name)) return 'not a psql variable name (letters, digits and _ only)';
  if (CONNECTION.has(name)) return `psql sets ${name} itself, for the database being built`;
  if (PSQL_OWN_VARIABLES.has(name)) return `${name} is one of psql's own variables`;
  return undefined;
}
