import { describe, expect, it } from 'vitest';
import { classifyToolStderr, echoedStatement, summarizeToolStderr } from '../../../src/archive/tool-output.js';

// Real output of pg_dump / pg_restore / psql 15, captured against a test server.
const DUMP_PERMISSION = `pg_dump: error: query failed: ERROR:  permission denied for table secret
pg_dump: detail: Query was: LOCK TABLE public.secret IN ACCESS SHARE MODE`;
const RESTORE_TERMINATED = `pg_restore: error: could not execute query: FATAL:  terminating connection due to administrator command
server closed the connection unexpectedly
\tThis probably means the server terminated abnormally
\tbefore or while processing the request.
Command was: CREATE TABLE public.wide (
    id integer NOT NULL,
    c0 text DEFAULT 'value 0'::text NOT NULL,
    c1 text DEFAULT 'value 1'::text NOT NULL,
    c2 text DEFAULT 'value 2'::text NOT NULL,
    c3 text DEFAULT 'value 3'::text NOT NULL,
    c4 text DEFAULT 'value 4'::text NOT NULL,
    c5 text DEFAULT 'value 5'::text NOT NULL,
    c6 text DEFAULT 'value 6'::text NOT NULL,
    c7 text DEFAULT 'value 7'::text NOT NULL
);
`;
const RESTORE_COPY = `pg_restore: error: error returned by PQputCopyData: server closed the connection unexpectedly
\tThis probably means the server terminated abnormally
\tbefore or while processing the request.`;
const PSQL_ERROR = `psql:<stdin>:42: ERROR:  must be owner of schema app
psql:<stdin>:42: STATEMENT:  DROP SCHEMA app CASCADE;`;
const CONNECT_FAILED = `pg_dump: error: connection to server at "127.0.0.1", port 1 failed: Connection refused
\tIs the server running on that host and accepting TCP/IP connections?`;
const DISK_FULL = `pg_restore: error: could not execute query: ERROR:  could not extend file "base/16384/16390": No space left on device
HINT:  Check free disk space.
Command was: COPY public.t (id) FROM stdin;`;
const LOCK = `pg_dump: error: query failed: ERROR:  canceling statement due to lock timeout
pg_dump: detail: Query was: LOCK TABLE public.busy IN ACCESS SHARE MODE`;

describe('summarizeToolStderr', () => {
  it.each([
    ['permission', DUMP_PERMISSION, ['pg_dump: error: query failed: ERROR:  permission denied for table secret', 'pg_dump: detail: Query was: LOCK TABLE public.secret IN ACCESS SHARE MODE']],
    ['terminated during CREATE TABLE: the error, not the tail of the statement', RESTORE_TERMINATED, [
      'pg_restore: error: could not execute query: FATAL:  terminating connection due to administrator command',
      'server closed the connection unexpectedly',
      'Command was: CREATE TABLE public.wide ( …',
    ]],
    ['terminated during COPY', RESTORE_COPY, ['pg_restore: error: error returned by PQputCopyData: server closed the connection unexpectedly']],
    ['psql', PSQL_ERROR, ['psql:<stdin>:42: ERROR:  must be owner of schema app', 'psql:<stdin>:42: STATEMENT:  DROP SCHEMA app CASCADE;']],
  ])('%s', (_name, stderr, expected) => {
    expect(summarizeToolStderr(stderr)).toEqual(expected);
  });

  it('keeps the first lines when there are many, and says how many it left out', () => {
    const many = Array.from({ length: 30 }, (_, i) => `pg_restore: error: failure ${i}`).join('\n');
    const lines = summarizeToolStderr(many, 5);
    expect(lines).toEqual(['pg_restore: error: failure 0', 'pg_restore: error: failure 1', 'pg_restore: error: failure 2', 'pg_restore: error: failure 3', '… (26 more lines)']);
  });

  it('shortens a long one-line statement', () => {
    const long = `pg_dump: detail: Query was: SELECT ${'x, '.repeat(200)}y`;
    const [line] = summarizeToolStderr(long);
    expect(line?.length).toBeLessThan(220);
    expect(line?.endsWith('…')).toBe(true);
  });
});

describe('classifyToolStderr', () => {
  it.each([
    [DUMP_PERMISSION, 'permission'],
    [RESTORE_TERMINATED, 'connection-lost'],
    [RESTORE_COPY, 'connection-lost'],
    [PSQL_ERROR, 'permission'],
    [DISK_FULL, 'disk-full'],
    [LOCK, 'lock-timeout'],
    ['pg_restore: error: could not execute query: ERROR:  canceling statement due to statement timeout', 'canceled'],
    ['pg_restore: error: could not execute query: ERROR:  syntax error at or near "x"', undefined],
  ])('%#', (stderr, kind) => {
    expect(classifyToolStderr(stderr)).toBe(kind);
  });

  it('a refused connection is not a lost one', () => {
    // pgToolError tells these apart by the first error line ("connection to server ... failed").
    expect(classifyToolStderr(CONNECT_FAILED)).toBe('connection-lost');
  });
});

describe('echoedStatement', () => {
  it.each([
    [DUMP_PERMISSION, 'LOCK TABLE public.secret IN ACCESS SHARE MODE'],
    [DISK_FULL, 'COPY public.t (id) FROM stdin;'],
    [RESTORE_COPY, undefined],
  ])('%#', (stderr, statement) => {
    expect(echoedStatement(stderr)).toBe(statement);
  });
});
