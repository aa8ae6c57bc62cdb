import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { query, remote, urlFor } from '../support/db.js';
import { cli, cliJson, createRemoteAccount, filesIn, seedShop, writeProject } from '../support/backup.js';
import { snapshot, writeDeployProject } from '../support/deploy.js';

interface ErrorBody {
  error: { code: string; message: string; hint: string | null; exitCode: number };
}

function errorOf(result: CliResult): ErrorBody['error'] {
  return parseJson<ErrorBody>(result).error;
}

describe("pg_dump's and pg_restore's own words reach the user", () => {
  it('a table the backup role cannot read: permission denied naming the table and what to grant, exit 1, nothing kept', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'noread' });
    await seedShop(account, 10);
    // Created by the superuser in the account's database: the account cannot read it.
    await query(account.adminDbUrl, 'CREATE TABLE public.secret (id int); INSERT INTO public.secret VALUES (1)');
    const project = writeProject([{ name: 'target', account }]);

    const result = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.message).toContain('permission denied for table secret');
    expect(error.hint).toContain(`GRANT SELECT ON public.secret TO "${account.role}";`);
    expect(error.message + (error.hint ?? '')).not.toMatch(/interrupted|bug in dbfast/i);
    expect(filesIn(path.join(project.backupDir, 'target')).filter((f) => !f.startsWith('.'))).toEqual([]);

    const human = await cli(project, ['backup', 'create', '--remote', 'target']);
    expect(human.exitCode).toBe(1);
    expect(human.stderr).toContain('permission denied for table secret');
  });

  it('a deploy to a database with that table is refused in its preflight, before its backup, with the same cause; the live database is untouched', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'noreaddep' });
    await query(account.adminDbUrl, 'CREATE TABLE public.secret (id int)');
    const before = snapshot(account.adminDbUrl);
    const project = writeDeployProject([{ name: 'staging', account }]);
    const result = await cli(project, ['--json', 'deploy', 'staging']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('PERMISSION_DENIED');
    expect(error.message).toContain('refused before any change');
    expect(error.message).toContain('table public.secret (SELECT)');
    expect(error.message).toContain('GRANT SELECT ON public.secret');
    expect(snapshot(account.adminDbUrl)).toBe(before);
  });

  it("a restore whose connection is terminated says so (pg_restore's error line), not the tail of a statement", async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'term' });
    // Wide enough that pg_restore is busy for a while: many columns, many rows, an index.
    const columns = Array.from({ length: 12 }, (_, i) => `c${i} text NOT NULL DEFAULT 'value ${i}'`).join(',\n  ');
    await query(account.adminDbUrl, `CREATE TABLE public.wide (id int PRIMARY KEY,\n  ${columns});
      INSERT INTO public.wide (id) SELECT g FROM generate_series(1, 400000) g;
      CREATE INDEX wide_c1 ON public.wide (c1, c2, c3);
      ALTER TABLE public.wide OWNER TO "${account.role}"`);
    const project = writeProject([{ name: 'target', account }], { compression: 'none' });
    const { backup } = await cliJson<{ backup: { id: string } }>(project, ['backup', 'create', '--remote', 'target']);

    const side = `${account.database}__dbfast_restore`;
    let terminated = 0;
    const restoring = cli(project, ['--json', 'backup', 'restore', '--remote', 'target', '--backup-id', backup.id]);
    let done = false;
    void restoring.finally(() => (done = true));
    // Ends pg_restore's session on the side database the moment it shows up (a real terminate, at a real moment).
    while (!done && terminated === 0) {
      const rows = await query<{ n: number }>(urlFor(remote.adminUrl, 'postgres'),
        "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'dbfast' AND backend_type = 'client backend'", [side]);
      terminated += rows[0]?.n ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const result = await restoring;
    expect(terminated, 'pg_restore was terminated while it ran').toBeGreaterThan(0);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('CONNECTION_LOST');
    expect(error.message).toMatch(/pg_restore: error: .*(terminating connection due to administrator command|server closed the connection unexpectedly|PQputCopyData)/);
    expect(error.message).not.toMatch(/This probably means the server terminated abnormally/);
    // The live database is still there, as it was.
    expect((await query(account.adminDbUrl, 'SELECT count(*)::int AS n FROM public.wide'))[0]).toEqual({ n: 400000 });
  });
});
