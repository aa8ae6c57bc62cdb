import type { SentStatement } from './batch.js';
import type { SourceFile } from './source.js';
import type { SqlStatement } from './split.js';

/**
 * Each file starts from the database's defaults, as under psql, which runs every file in a
 * session of its own: whatever a file changed in its session (`SET`, `set_config(..., false)`
 * as pg_dump writes it to empty search_path, `SET ROLE`, `SET SESSION AUTHORIZATION`, temporary
 * tables) is undone before the next file. Sent at the head of the next file's first batch, so
 * it costs no round trip, inside the runner's transaction when there is one.
 */
const RESET_SESSION = 'SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DISCARD TEMP;';
// Three statements, and REAPPLY_DEFAULTS one more: sessionReset's `commands` counts them.

/**
 * RESET ALL goes back to the values the session started with. A new session would also pick up
 * database and role settings made since (`ALTER DATABASE ... SET` in an earlier file), so once a
 * file has made one, they are applied again as PostgreSQL applies them at connection: server-wide
 * role settings, then the database's, then the role's, then the role's in this database. A
 * setting a session cannot make (say, one only the server sets at start) is skipped, as a
 * session start would not fail on it either.
 */
const REAPPLY_DEFAULTS = `DO $dbfast_defaults$
DECLARE setting text;
BEGIN
  FOR setting IN
    SELECT unnest(s.setconfig)
    FROM pg_catalog.pg_db_role_setting AS s
    WHERE s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()))
      AND s.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = session_user))
    ORDER BY (s.setdatabase <> 0)::int + 2 * (s.setrole <> 0)::int
  LOOP
    BEGIN
      PERFORM pg_catalog.set_config(split_part(setting, '=', 1), substr(setting, strpos(setting, '=') + 1), false);
    EXCEPTION WHEN OTHERS THEN
      NULL;
    END;
  END LOOP;
END
$dbfast_defaults$;`;

/**
 * The same reset as one statement for a caller that runs files on pooled connections itself
 * (parallel layers): a connection that ran another file starts the next from the database's
 * defaults, including settings an earlier file made with ALTER DATABASE ... SET.
 */
export const SESSION_RESET_SQL = `${RESET_SESSION}\n${REAPPLY_DEFAULTS}`;

/** The statement that starts `source` from the database's defaults (attributed to the file's first line). */
export function sessionReset(source: SourceFile, reapplyDefaults: boolean): SentStatement {
  const sql = reapplyDefaults ? SESSION_RESET_SQL : RESET_SESSION;
  const statement: SqlStatement = { kind: 'statement', text: sql, start: 0, end: 0, line: 1, column: 1, endLine: 1, words: ['RESET'], terminated: true };
  return { source, statement, sql, toSource: () => 0, commands: reapplyDefaults ? 4 : 3 };
}

