import { describe, expect, it } from 'vitest';
import { classify, splitSql, type SqlCopy, type SqlItem, type SqlMetaCommand, type SqlStatement } from '../../src/sql/index.js';

/** Statement texts with their start line and column (COPY blocks by their statement). */
function statements(sql: string | Buffer): Array<[string, number, number]> {
  return splitSql(sql).map((item) => {
    const statement = item.kind === 'copy' ? item.statement : (item as SqlStatement);
    if (item.kind === 'meta') return [`${item.command} ${item.args}`, item.line, item.column];
    return [statement.text, statement.line, statement.column];
  });
}

function only<T extends SqlItem['kind']>(items: SqlItem[], kind: T): Array<Extract<SqlItem, { kind: T }>> {
  return items.filter((item): item is Extract<SqlItem, { kind: T }> => item.kind === kind);
}

describe('splitSql: quoting never cut', () => {
  it('keeps dollar quotes with any tag whole, and does not take $1 or a$b for one', () => {
    const sql = [
      'CREATE FUNCTION f(int) RETURNS int AS $fn$ SELECT $1 + 1; $fn$ LANGUAGE sql;',
      'CREATE FUNCTION g() RETURNS text AS $a_1$ SELECT $$;$$ || $b$;$b$; $a_1$ LANGUAGE sql;',
      'CREATE TABLE a$b (x$ int);',
      'PREPARE p(int) AS SELECT $1;',
      'SELECT $$',
      'multi; line',
      '$$;',
    ].join('\n');
    expect(statements(sql)).toEqual([
      ['CREATE FUNCTION f(int) RETURNS int AS $fn$ SELECT $1 + 1; $fn$ LANGUAGE sql;', 1, 1],
      ['CREATE FUNCTION g() RETURNS text AS $a_1$ SELECT $$;$$ || $b$;$b$; $a_1$ LANGUAGE sql;', 2, 1],
      ['CREATE TABLE a$b (x$ int);', 3, 1],
      ['PREPARE p(int) AS SELECT $1;', 4, 1],
      ['SELECT $$\nmulti; line\n$$;', 5, 1],
    ]);
  });

  it('skips nested block comments and line comments holding ; and quotes', () => {
    const sql = "/* one /* two; */ still; ' */ SELECT 1;\n-- it's; a comment\nSELECT 2; -- trailing; 'x\n/* a */ SELECT /* b; */ 3;";
    expect(statements(sql)).toEqual([
      ['SELECT 1;', 1, 31],
      ['SELECT 2;', 3, 1],
      ['SELECT /* b; */ 3;', 4, 9],
    ]);
  });

  it("handles '' escapes, E'' strings with backslashes, and standard strings ending in a backslash", () => {
    const sql = [
      "SELECT 'a;''b';",
      "SELECT E'it\\'s; fine', e'\\\\';",
      "SELECT 'C:\\dir\\';",
      "SELECT E'\\\\', ';';",
      'SELECT 4;',
    ].join('\n');
    expect(statements(sql).map(([text]) => text)).toEqual([
      "SELECT 'a;''b';",
      "SELECT E'it\\'s; fine', e'\\\\';",
      "SELECT 'C:\\dir\\';",
      "SELECT E'\\\\', ';';",
      'SELECT 4;',
    ]);
  });

  it('keeps quoted identifiers with "" and unicode identifiers, counting columns in characters', () => {
    const sql = 'CREATE TABLE "we;""ird" ("bıgınt" int, café text); SELECT \'ü\'; SELECT 3;\nCREATE TABLE naïve (x int);';
    expect(statements(sql)).toEqual([
      ['CREATE TABLE "we;""ird" ("bıgınt" int, café text);', 1, 1],
      ["SELECT 'ü';", 1, 52],
      ['SELECT 3;', 1, 64],
      ['CREATE TABLE naïve (x int);', 2, 1],
    ]);
  });

  it('keeps DO blocks, and a function followed by COMMENT and GRANT as three statements', () => {
    const sql = [
      'DO $$',
      'BEGIN',
      "  RAISE NOTICE 'a;b';",
      'END',
      '$$;',
      'CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE plpgsql AS $body$',
      'BEGIN',
      '  RETURN a + b; -- ; in a comment inside the body',
      'END;',
      '$body$;',
      "COMMENT ON FUNCTION add(int, int) IS 'adds; numbers';",
      'GRANT EXECUTE ON FUNCTION add(int, int) TO PUBLIC;',
    ].join('\n');
    expect(statements(sql).map(([text, line]) => [text.split('\n')[0], line])).toEqual([
      ['DO $$', 1],
      ['CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE plpgsql AS $body$', 6],
      ["COMMENT ON FUNCTION add(int, int) IS 'adds; numbers';", 11],
      ['GRANT EXECUTE ON FUNCTION add(int, int) TO PUBLIC;', 12],
    ]);
  });

  it('keeps BEGIN ATOMIC ... END bodies (with CASE ... END inside) whole, but not a transaction BEGIN', () => {
    const sql = [
      'BEGIN;',
      'CREATE OR REPLACE FUNCTION pick(x int) RETURNS int LANGUAGE sql',
      'BEGIN ATOMIC',
      '  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;',
      '  SELECT x;',
      'END;',
      'CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;',
      'COMMIT;',
    ].join('\n');
    expect(statements(sql)).toEqual([
      ['BEGIN;', 1, 1],
      ['CREATE OR REPLACE FUNCTION pick(x int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END;\n  SELECT x;\nEND;', 2, 1],
      ['CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END;', 7, 1],
      ['COMMIT;', 8, 1],
    ]);
  });

  it('keeps a ; inside parentheses in the statement, as psql does (CREATE RULE ... DO (a; b))', () => {
    const sql = 'CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\nSELECT 1;';
    expect(statements(sql).map(([, line]) => line)).toEqual([1, 2]);
  });
});

describe('splitSql: the bulk of long statements (after their first words)', () => {
  it('still sees E-strings, dollar quotes, $ in identifiers, comments and parentheses deep inside VALUES', () => {
    const sql = [
      "INSERT INTO t VALUES (1, E'it\\'s; x', 'a;b'), (2, e'\\\\', $$;$$), (3, $q$ ; $q$, a$b, $1)",
      "  , (4, 'x' -- comment; with 'quote",
      "  ), (5, /* c; /* nested; */ ; */ 'y'), (6, (SELECT ';'));",
      "INSERT INTO t VALUES (7, 'z'); INSERT INTO t VALUES (8, date'2024-01-01', \"semi;\");",
    ].join('\n');
    expect(statements(sql).map(([text, line, column]) => [text.slice(0, 25), line, column])).toEqual([
      ['INSERT INTO t VALUES (1, ', 1, 1],
      ["INSERT INTO t VALUES (7, ", 4, 1],
      ['INSERT INTO t VALUES (8, ', 4, 32],
    ]);
    expect((splitSql(sql)[0] as SqlStatement).text.endsWith("(6, (SELECT ';'));")).toBe(true);
  });
});

describe('splitSql: COPY, meta-commands, ends of files', () => {
  it('cuts COPY ... FROM stdin data up to \\. exactly as written, escapes and unicode included', () => {
    const data = 'a\\tb\tx\\\\y\n\\N\tzü€😀\n';
    const sql = `SELECT 1;\nCOPY t (a, b) FROM stdin;\n${data}\\.\nSELECT 2;\nCOPY (SELECT 1) TO STDOUT;\n`;
    const buffer = Buffer.from(sql);
    const items = splitSql(buffer);
    const [copy] = only(items, 'copy') as [SqlCopy];
    expect(buffer.subarray(copy.dataStart, copy.dataEnd).toString('utf8')).toBe(data);
    expect(copy).toMatchObject({ dataLine: 3, dataLines: 2, endLine: 5, terminated: true });
    expect(copy.statement).toMatchObject({ text: 'COPY t (a, b) FROM stdin;', line: 2 });
    expect(statements(buffer).map(([text, line]) => [text, line])).toEqual([
      ['SELECT 1;', 1],
      ['COPY t (a, b) FROM stdin;', 2],
      ['SELECT 2;', 6],
      ['COPY (SELECT 1) TO STDOUT;', 7],
    ]);
  });

  it('reads CRLF files: statements, lines and the \\.\\r\\n terminator', () => {
    const sql = 'SELECT 1;\r\nCOPY t FROM stdin;\r\n1\tx\r\n2\ty\r\n\\.\r\nSELECT\r\n  2;\r\n';
    const buffer = Buffer.from(sql);
    const items = splitSql(buffer);
    const [copy] = only(items, 'copy') as [SqlCopy];
    expect(buffer.subarray(copy.dataStart, copy.dataEnd).toString()).toBe('1\tx\r\n2\ty\r\n');
    expect(statements(buffer)).toEqual([
      ['SELECT 1;', 1, 1],
      ['COPY t FROM stdin;', 2, 1],
      ['SELECT\r\n  2;', 6, 1],
    ]);
  });

  it('reports a COPY whose data never ends, and text after the COPY statement on its line', () => {
    const [unterminated] = only(splitSql('COPY t FROM stdin;\n1\n2\n'), 'copy');
    expect(unterminated).toMatchObject({ terminated: false, dataLines: 2 });
    const [noSemicolon] = only(splitSql('COPY t FROM stdin'), 'copy');
    expect(noSemicolon?.terminated).toBe(false);
    const [sameLine] = only(splitSql('COPY t FROM stdin; SELECT 1;\n1\n\\.\n'), 'copy');
    expect(sameLine?.sameLineText).toBe('SELECT 1;');
    const [comment] = only(splitSql('COPY t FROM stdin; -- data follows\n1\n\\.\n'), 'copy');
    expect(comment?.sameLineText).toBeUndefined();
  });

  it('finds meta-commands at statement start and in the middle of a statement', () => {
    const sql = "SELECT 1;\n\\i 'sub dir/a.sql'\n  \\set x 1\nSELECT 'a\\b' \\gexec\n\\.\n";
    const metas = only(splitSql(sql), 'meta') as SqlMetaCommand[];
    expect(metas.map((m) => [m.command, m.args, m.line, m.column, m.midStatement])).toEqual([
      ['\\i', "'sub dir/a.sql'", 2, 1, false],
      ['\\set', 'x 1', 3, 3, false],
      ['\\gexec', '', 4, 14, true],
      // The statement before \gexec never ended, so this one is inside it too.
      ['\\.', '', 5, 1, true],
    ]);
  });

  it('ends a file: last statement without ;, trailing comments, unclosed quotes, a byte-order mark', () => {
    expect(splitSql('SELECT 1;\nSELECT 2 -- done\n')).toMatchObject([
      { text: 'SELECT 1;', terminated: true },
      { text: 'SELECT 2', terminated: false, line: 2 },
    ]);
    expect(splitSql('INSERT INTO t VALUES (1), (2)   \n -- trailing\n')).toMatchObject([{ text: 'INSERT INTO t VALUES (1), (2)', terminated: false }]);
    expect(splitSql('-- only a comment\n/* and this */\n')).toEqual([]);
    expect(splitSql("SELECT 1;\nSELECT $x$ never closed;\n")).toMatchObject([{}, { unclosed: 'dollar quote', line: 2 }]);
    expect(splitSql("SELECT 'open")).toMatchObject([{ unclosed: 'string' }]);
    expect(splitSql('/* /* */ open')).toMatchObject([{ unclosed: 'block comment', line: 1, column: 1 }]);
    expect(statements('\uFEFFSELECT 1;')).toEqual([['SELECT 1;', 1, 1]]);
  });
});

describe('classify', () => {
  const traits = (sql: string) => classify(splitSql(sql)[0] as SqlStatement);

  it('sends statements that refuse a transaction block alone', () => {
    for (const sql of [
      'CREATE INDEX CONCURRENTLY i ON t (a);', 'CREATE UNIQUE INDEX CONCURRENTLY i ON t (a);', 'DROP INDEX CONCURRENTLY i;',
      'VACUUM t;', 'CREATE DATABASE x;', 'DROP DATABASE x;', 'ALTER SYSTEM SET work_mem = 1;', 'REINDEX TABLE CONCURRENTLY t;',
      'CREATE TABLESPACE s LOCATION \'/x\';', 'CALL p();', 'DO $$ BEGIN COMMIT; END $$;',
    ]) {
      expect(traits(sql), sql).toMatchObject({ alone: true, noTransactionBlock: true });
    }
    expect(traits('CREATE INDEX i ON t (a);')).toMatchObject({ alone: false, ddl: true });
    expect(traits('DO $$ BEGIN NULL; END $$;').alone).toBe(false);
  });

  it('marks transaction control, ALTER TYPE ... ADD VALUE, and refuses what in-process cannot follow', () => {
    for (const sql of ['BEGIN;', 'START TRANSACTION;', 'COMMIT;', 'END;', 'ROLLBACK;', 'SAVEPOINT a;', 'RELEASE a;']) {
      expect(traits(sql), sql).toMatchObject({ alone: true, transactionControl: true });
    }
    expect(traits("ALTER TYPE mood ADD VALUE 'meh';").endsBatch).toBe(true);
    expect(traits("SET client_encoding = 'LATIN1';").refusal).toMatch(/client_encoding to LATIN1/);
    expect(traits("SET client_encoding = 'UTF8';").refusal).toBeUndefined();
    expect(traits('SET standard_conforming_strings = off;').refusal).toMatch(/standard_conforming_strings/);
    expect(traits('COPY t TO STDOUT;').refusal).toMatch(/TO STDOUT/);
  });
});
