/**
 * What pg_dump, pg_restore and psql say when they fail, made readable: their own error lines
 * (and the server's DETAIL/HINT) kept, the SQL they echo after "Command was:" / "Query was:"
 * shortened to its first line, libpq's boilerplate dropped. Pure functions, unit-tested.
 */

/** Kinds of failure dbfast has its own codes for. */
export type ToolFailureKind = 'permission' | 'connection-lost' | 'disk-full' | 'lock-timeout' | 'canceled';

const TOOL_LINE = /^(pg_dump|pg_restore|pg_dumpall|psql)(:[^:\s]*:\d+)?: /;
const SERVER_LINE = /^(ERROR|FATAL|PANIC|DETAIL|HINT|CONTEXT|WARNING|LINE \d+):/;
const BOILERPLATE = /^\s*(This probably means the server terminated abnormally|before or while processing the request\.)\s*$/;
const ECHOED_SQL = /^(?:(?:pg_dump|pg_restore|psql): detail: )?(Command was|Query was): ?(.*)$/;
const MAX_SQL = 160;

/** The lines of a tool's stderr that say what went wrong, at most `max` of them. */
export function summarizeToolStderr(stderr: string, max = 12): string[] {
  const lines = stderr.replace(/\r\n/g, '\n').split('\n');
  const kept: string[] = [];
  let inEcho = false;
  for (const raw of lines) {
    const line = raw.trimEnd();
    const echo = ECHOED_SQL.exec(line);
    if (echo) {
      const sql = (echo[2] ?? '').trim();
      kept.push(`${line.slice(0, line.indexOf(echo[1] as string))}${echo[1] as string}: ${sql.length > MAX_SQL ? `${sql.slice(0, MAX_SQL)}…` : sql}${sql ? '' : '…'}`);
      inEcho = true;
      continue;
    }
    if (inEcho) {
      // The echoed statement goes on until the tool speaks again.
      if (!TOOL_LINE.test(line) && !SERVER_LINE.test(line)) {
        if (kept.length > 0 && !(kept[kept.length - 1] as string).endsWith('…')) kept[kept.length - 1] += ' …';
        continue;
      }
      inEcho = false;
    }
    if (!line.trim() || BOILERPLATE.test(line)) continue;
    if (kept[kept.length - 1] !== line) kept.push(line);
  }
  if (kept.length <= max) return kept;
  // The first errors are the causes; what follows is usually their consequences.
  return [...kept.slice(0, max - 1), `… (${kept.length - max + 1} more lines)`];
}

/** Which known kind of failure the output shows, if any (the first that matches, in order of cause). */
export function classifyToolStderr(stderr: string): ToolFailureKind | undefined {
  if (/No space left on device|could not extend file|disk full/i.test(stderr)) return 'disk-full';
  if (/permission denied|must be owner of|must be superuser|must be a member of|must be member of/i.test(stderr)) return 'permission';
  if (/could not obtain lock|canceling statement due to lock timeout|lock timeout/i.test(stderr)) return 'lock-timeout';
  if (/server closed the connection unexpectedly|terminating connection due to|connection to server .* failed|could not receive data from server|SSL SYSCALL error|no connection to the server|the database system is (shutting down|starting up|in recovery mode)/i.test(stderr)) {
    return 'connection-lost';
  }
  if (/canceling statement due to (statement timeout|user request)/i.test(stderr)) return 'canceled';
  return undefined;
}

/** The statement the tool echoed after its error ("Query was: LOCK TABLE public.secret ..."), for naming objects. */
export function echoedStatement(stderr: string): string | undefined {
  for (const line of stderr.split('\n')) {
    const echo = ECHOED_SQL.exec(line.trimEnd());
    if (echo && echo[2]) return echo[2].trim();
  }
  return undefined;
}
