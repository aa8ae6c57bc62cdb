import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, parseJson, runCli } from '../support/cli.js';
import { dropDatabase, local, query, uniqueName, urlFor } from '../support/db.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-bundle-'));
const template = uniqueName('bnd');
const output = `${template}_copy`;

afterAll(async () => {
  for (const db of [output, `${template}_local`]) await dropDatabase(local, db).catch(() => undefined);
  // (The seed runs without the seed pool: no detached refill writes under .dbfast/ while this runs.)
  rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
});

describe('the bundled CLI', () => {
  it('builds and seeds a repository whose files use COPY ... FROM stdin (lazily loaded CommonJS modules work)', async () => {
    cpSync(path.join(PROJECT_ROOT, 'fixtures/app/db'), path.join(dir, 'db'), { recursive: true });
    writeFileSync(
      path.join(dir, 'dbfast.toml'),
      `[database]\nurl = ${JSON.stringify(local.adminUrl)}\ntemplate_name = "${template}"\n\n[repository]\npath = "db"\n`,
    );
    const result = await runCli(['--json', 'seed', '--output', output], { cwd: dir, env: { DBFAST_POOL_SIZE: '0' } });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(parseJson<{ database: string; rebuilt: boolean }>(result)).toMatchObject({ database: output, rebuilt: true });
    const rows = await query<{ n: number }>(urlFor(local.adminUrl, output), 'SELECT count(*)::int AS n FROM app.customer');
    expect(rows[0]?.n).toBe(2);
  });
});
