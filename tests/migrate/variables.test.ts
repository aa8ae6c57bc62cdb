import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { query } from '../support/db.js';
import { FIRST, json, migrationRows, productionProject, writeMigration } from '../support/migrate.js';

interface ApplyBody {
  result: string;
  applied: Array<{ id: string }>;
}

/** Adds psql variables to the project's dbfast.toml: `[repository] variables` and the production environment's own. */
function addVariables(dir: string): void {
  const file = path.join(dir, 'dbfast.toml');
  const text = readFileSync(file, 'utf8')
    .replace('[repository]\npath = "db"\n', '[repository]\npath = "db"\nvariables = { app_schema = "app", note_prefix = "repository" }\n')
    .replace('[environments.production]\n', '[environments.production]\nvariables = { note_prefix = "production" }\n');
  writeFileSync(file, text);
}

describe('migrations run with the psql variables of their environment', () => {
  it('substitutes [repository] and [environments.NAME] variables, psql\'s own (:DBNAME) and \\set ones, as the template build does', async () => {
    const { account, project } = await productionProject({ prefix: 'mvar' });
    addVariables(project.dir);
    const second = writeMigration(
      project,
      '002_variables.sql',
      [
        'CREATE TABLE :"app_schema".tagged (id int PRIMARY KEY, body text, made_in text);',
        "INSERT INTO :\"app_schema\".tagged VALUES (1, :'note_prefix', :'DBNAME');",
        "\\set local_note 'set in the file'",
        "INSERT INTO :\"app_schema\".tagged VALUES (2, :'local_note', :'DBNAME');",
        '',
      ].join('\n'),
    );

    const { body } = await json<ApplyBody>(project, ['migrate', 'apply', '--remote', 'production', '--confirm']);
    expect(body.result).toBe('success');
    expect(body.applied.map((m) => m.id)).toEqual([FIRST, second]);
    expect(await query(account.adminDbUrl, 'SELECT id, body, made_in FROM app.tagged ORDER BY id')).toEqual([
      { id: 1, body: 'production', made_in: account.database },
      { id: 2, body: 'set in the file', made_in: account.database },
    ]);
    expect((await migrationRows(account)).map((row) => [row.id, row.status])).toEqual([
      [FIRST, 'success'],
      [second, 'success'],
    ]);
  });
});
