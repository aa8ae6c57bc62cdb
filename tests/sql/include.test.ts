import { describe, expect, it } from 'vitest';
import { runFiles } from '../../src/sql/index.js';
import { query } from '../support/db.js';
import { failure, fixture, freshTarget } from '../support/sql.js';

const PSQL_HINT = /runner = "psql" in \[repository\].*--runner psql/;

describe('\\i and \\ir includes', () => {
  it('runs included files in place, relative to the including file (\\i, \\ir, \\include with a quoted name)', async () => {
    const { url, target } = await freshTarget();
    const result = await runFiles([fixture('include/main.sql')], { target });
    expect(result.statements).toBe(5);
    expect(await query(url, 'SELECT step FROM inc_log ORDER BY n')).toEqual([
      { step: 'one' }, { step: 'two' }, { step: 'three' }, { step: 'main' },
    ]);
  });

  it('refuses an include cycle, naming the chain, before running anything', async () => {
    const { target } = await freshTarget();
    const error = await failure(runFiles([fixture('include/cycle_a.sql')], { target }));
    expect(error.code).toBe('SQL_INCLUDE_CYCLE');
    expect(error.message).toBe(
      'include/cycle_b.sql:2: \\ir cycle_a.sql makes an include cycle: include/cycle_a.sql -> include/cycle_b.sql -> include/cycle_a.sql (included from include/cycle_a.sql:2)',
    );
    expect(error.details).toMatchObject({ cycle: ['include/cycle_a.sql', 'include/cycle_b.sql', 'include/cycle_a.sql'] });
  });

  it('names the file and line of an include whose file is missing', async () => {
    const { target } = await freshTarget();
    const error = await failure(runFiles([fixture('include/missing.sql')], { target }));
    expect(error.code).toBe('SQL_INCLUDE_MISSING');
    expect(error.message).toMatch(/^include\/missing\.sql:3: \\i not_there\.sql: cannot read include\/not_there\.sql \(ENOENT\)/);
  });
});

describe('meta-commands the in-process runner refuses', () => {
  it('\\echo: an error naming file:line and the command, with the psql-runner hint; nothing ran', async () => {
    const { url, target } = await freshTarget();
    const error = await failure(runFiles([fixture('tricky/030_transactions.sql'), fixture('meta/echo.sql')], { target }));
    expect(error.code).toBe('SQL_META_COMMAND');
    expect(error.message).toBe('meta/echo.sql:3: psql meta-command \\echo cannot run in-process');
    expect(error.hint).toMatch(PSQL_HINT);
    expect(error.details).toMatchObject({ file: 'meta/echo.sql', line: 3, command: '\\echo' });
    // Validate first, act second: not even the earlier, valid file ran.
    expect(await query(url, "SELECT to_regclass('before_meta') AS a, to_regnamespace('app') AS b")).toEqual([{ a: null, b: null }]);
  });

  it('\\connect (refused by both runners: the files run in one database) and a \\gexec in the middle of a statement', async () => {
    const { target } = await freshTarget();
    const connect = await failure(runFiles([fixture('meta/connect.sql')], { target }));
    expect(connect.message).toBe('meta/connect.sql:2: \\connect other_database switches to another database; the files run in the one database they are given');
    const gexec = await failure(runFiles([fixture('meta/gexec.sql')], { target }));
    expect(gexec.message).toBe('meta/gexec.sql:2: psql meta-command \\gexec in the middle of a statement cannot run in-process');
    expect(gexec.hint).toMatch(PSQL_HINT);
  });

  it('refuses COPY ... FROM stdin whose data has no \\. before the end of the file', async () => {
    const { url, target } = await freshTarget();
    const error = await failure(runFiles([fixture('meta/copy_unterminated.sql')], { target }));
    expect(error.code).toBe('SQL_COPY_UNTERMINATED');
    expect(error.message).toMatch(/^meta\/copy_unterminated\.sql:2: COPY \.\.\. FROM stdin has no end of data/);
    expect(await query(url, "SELECT to_regclass('open_copy') AS t")).toEqual([{ t: null }]);
  });
});
