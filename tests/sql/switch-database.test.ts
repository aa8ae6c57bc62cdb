import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runFiles } from '../../src/sql/index.js';
import { databasesLike, local, query, uniqueName } from '../support/db.js';
import { failure, freshTarget } from '../support/sql.js';

const pgBinDir = inject('pgBinDir') || undefined;
const scratch = mkdtempSync(path.join(os.tmpdir(), 'dbfast-switch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, content: string): { relativePath: string; absolutePath: string } {
  const absolutePath = path.join(scratch, name);
  writeFileSync(absolutePath, content);
  return { relativePath: `db/${name}`, absolutePath };
}

describe('a file that switches databases cannot build a template', () => {
  it('\\c and \\connect are refused by both runners, naming file:line, before anything runs', async () => {
    const other = uniqueName('stray');
    // Chinook's script, in short: build a database of its own and connect to it.
    const chinook = scratchFile('chinook.sql', `CREATE TABLE before_switch (id int);\n\n\\c ${other}\nCREATE TABLE artist (id int);\n`);
    const connect = scratchFile('connect.sql', `SELECT 1;\n\\connect "${other}"\n`);
    for (const runner of ['inprocess', 'psql'] as const) {
      const { url, target } = await freshTarget();
      const error = await failure(runFiles([chinook], { target, runner, pgBinDir }));
      expect(error.code).toBe('SQL_DATABASE_SWITCH');
      expect(error.message).toBe(`db/chinook.sql:3: \\c ${other} switches to another database; the files run in the one database they are given`);
      expect(error.hint).toMatch(/Remove the \\c line/);
      expect(await query(url, "SELECT to_regclass('before_switch') AS t")).toEqual([{ t: null }]);
      const second = await failure(runFiles([connect], { target, runner, pgBinDir }));
      expect(second.message).toMatch(/^db\/connect\.sql:2: \\connect "stray_\w+" switches to another database/);
    }
    expect(await databasesLike(local, other)).toEqual([]);
  });

  it('CREATE DATABASE and DROP DATABASE in a template build are refused by both runners, naming file:line:column', async () => {
    const other = uniqueName('stray');
    const file = scratchFile('makes_db.sql', `CREATE TABLE early (id int);\n  DROP DATABASE IF EXISTS ${other};\nCREATE DATABASE ${other};\n`);
    for (const runner of ['inprocess', 'psql'] as const) {
      const { url, target } = await freshTarget();
      const error = await failure(runFiles([file], { target, runner, pgBinDir, serverWide: 'refuse' }));
      expect(error.code).toBe('SQL_SERVER_WIDE');
      expect(error.message).toBe('db/makes_db.sql:2:3: DROP DATABASE acts on the whole server, not on the database being built');
      expect(await query(url, "SELECT to_regclass('early') AS t")).toEqual([{ t: null }]);
    }
    expect(await databasesLike(local, other)).toEqual([]);
  });
});
