import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { parseJson, type CliResult } from '../support/cli.js';
import { freePort } from '../support/cluster.js';
import { query, remote } from '../support/db.js';
import { cli, project, remoteDatabase, scramRole } from '../support/remote.js';

interface Check {
  name: string;
  ok: boolean;
  severity: 'error' | 'warning' | 'info';
  detail: string;
  hint?: string;
}

interface Report {
  remote: string;
  url: string;
  database: string;
  ok: boolean;
  checks: Check[];
  serverVersion: string | null;
  serverVersionNum: number | null;
  currentUser: string | null;
  superuser: boolean | null;
  canCreateDatabases: boolean | null;
  databaseExists: boolean | null;
  databaseOwner: string | null;
  ownsDatabase: boolean | null;
  tools: { pgDump: { path: string; version: string } | null; pgRestore: { path: string; version: string } | null };
  latencyMs: number | null;
  ssl: { mode: string; source: string; encrypted: boolean | null; protocol: string | null };
}

function check(report: Report, name: string): Check {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check "${name}" in ${JSON.stringify(report.checks)}`);
  return found;
}

/** A project with one remote `target`; an empty HOME so no ~/.pgpass of the machine leaks in. */
function remoteProject(url: string, extra = ''): { dir: string; home: string } {
  const p = project(`[environments.local]\n\n[remotes.target]\nurl = "${url}"\nenvironment = "local"\n${extra}`);
  const home = mkdtempSync(path.join(os.tmpdir(), 'dbfast-home-'));
  return { dir: p.dir, home };
}

function expectNoSecret(results: CliResult[], secret: string): void {
  for (const result of results) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

const pgDumpVersion = /(\d+(?:\.\d+)?)/.exec(execFileSync('pg_dump', ['--version'], { encoding: 'utf8' }).replace(/^[^)]*\)/, ''))?.[1];

describe('dbfast remote test', () => {
  it('reports version, user, privileges, ownership, tools, latency and sslmode for a reachable scram server (exit 0)', async () => {
    const role = await scramRole('CREATEDB');
    const db = await remoteDatabase(role.name);
    const { dir, home } = remoteProject(role.urlFor(db), 'password_env = "TARGET_PW"\n');
    const env = { TARGET_PW: role.password, HOME: home };
    const result = await cli(dir, ['--json', 'remote', 'test', 'target'], env);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const report = parseJson<Report>(result);
    const [server] = await query<{ version: string; num: string }>(remote.adminUrl, "SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num");
    expect(report).toMatchObject({
      remote: 'target',
      url: role.urlFor(db),
      database: db,
      ok: true,
      serverVersion: server?.version.split(' ')[0],
      serverVersionNum: Number(server?.num),
      currentUser: role.name,
      superuser: false,
      canCreateDatabases: true,
      databaseExists: true,
      databaseOwner: role.name,
      ownsDatabase: true,
      ssl: { mode: 'prefer', source: 'default', encrypted: false, protocol: null },
    });
    expect(report.tools.pgDump?.version).toBe(pgDumpVersion);
    expect(report.tools.pgRestore?.version).toBe(pgDumpVersion);
    expect(report.latencyMs).toBeGreaterThan(0);
    expect(report.checks.map((c) => c.name)).toEqual(['connect', 'database', 'owner', 'createdb', 'read', 'side_names', 'pg_dump', 'pg_restore', 'template', 'ssl', 'latency']);
    expect(report.checks.every((c) => c.ok)).toBe(true);
    expect(check(report, 'pg_dump').detail).toMatch(/can work with this PostgreSQL \d+ server/);

    const human = await cli(dir, ['remote', 'test', 'target'], env);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(/ok\s+connect\s+connected to .* as role_/);
    expect(human.stdout).toMatch(/ok\s+latency\s+\d+\.\d\d ms round trip/);
    expect(human.stdout).toMatch(/target is ready\n$/);
    expectNoSecret([result, human], role.password);
  });

  it('an unreachable server: the connect check fails with a hint, exit 3', async () => {
    const port = await freePort();
    const { dir, home } = remoteProject(`postgresql://nobody@127.0.0.1:${port}/db`);
    const result = await cli(dir, ['--json', 'remote', 'test', 'target'], { HOME: home });
    expect(result.exitCode).toBe(3);
    const report = parseJson<Report>(result);
    expect(report.ok).toBe(false);
    expect(check(report, 'connect')).toMatchObject({ ok: false, severity: 'error' });
    expect(check(report, 'connect').detail).toMatch(/ECONNREFUSED/);
    expect(check(report, 'connect').hint).toMatch(/Nothing is listening/);
    expect(report.serverVersion).toBeNull();
    // The tools are still reported, without a server to compare with.
    expect(check(report, 'pg_dump').detail).toMatch(/server version unknown/);

    const human = await cli(dir, ['remote', 'test', 'target'], { HOME: home });
    expect(human.exitCode).toBe(3);
    expect(human.stdout).toMatch(/FAIL\s+connect\s+cannot connect to postgresql:\/\/nobody@127\.0\.0\.1:\d+\/db/);
    expect(human.stdout).toMatch(/hint: Nothing is listening/);
    expect(human.stdout).toMatch(/1 problem found/);
  });

  it('a wrong password (scram): clear message, exit 3, and neither password appears anywhere', async () => {
    const role = await scramRole();
    const db = await remoteDatabase(role.name);
    const { dir, home } = remoteProject(role.urlFor(db), 'password_env = "TARGET_PW"\n');
    const wrong = 'wrong-Pa55word-zq8';
    const results = [
      await cli(dir, ['--json', 'remote', 'test', 'target'], { TARGET_PW: wrong, HOME: home }),
      await cli(dir, ['--verbose', 'remote', 'test', 'target'], { TARGET_PW: wrong, HOME: home }),
    ];
    for (const result of results) expect(result.exitCode).toBe(3);
    const report = parseJson<Report>(results[0] as CliResult);
    expect(check(report, 'connect').detail).toMatch(/password authentication failed for user "role_/);
    expect(check(report, 'connect').hint).toMatch(/password was refused/);
    expect(results[1]?.stdout).toMatch(/password authentication failed/);
    expectNoSecret(results, wrong);
    expectNoSecret(results, role.password);
  });

  it('a user without CREATEDB who does not own the database: both reported as warnings, exit 0', async () => {
    const role = await scramRole('NOCREATEDB');
    const db = await remoteDatabase();
    const { dir, home } = remoteProject(role.urlFor(db), 'password_env = "TARGET_PW"\n');
    const result = await cli(dir, ['--json', 'remote', 'test', 'target'], { TARGET_PW: role.password, HOME: home });
    expect(result.exitCode, result.stdout).toBe(0);
    const report = parseJson<Report>(result);
    expect(report).toMatchObject({ canCreateDatabases: false, superuser: false, databaseExists: true, databaseOwner: 'postgres', ownsDatabase: false });
    expect(check(report, 'createdb')).toMatchObject({ ok: false, severity: 'warning' });
    expect(check(report, 'createdb').detail).toMatch(/may not create databases \(no CREATEDB\): restores and deploys will run in place/);
    expect(check(report, 'createdb').hint).toContain(`ALTER ROLE "${role.name}" CREATEDB`);
    expect(check(report, 'owner')).toMatchObject({ ok: false, severity: 'warning' });
    expect(check(report, 'owner').hint).toContain(`ALTER DATABASE "${db}" OWNER TO "${role.name}"`);
    const human = await cli(dir, ['remote', 'test', 'target'], { TARGET_PW: role.password, HOME: home });
    expect(human.stdout).toMatch(/WARN\s+createdb\s+/);
    expect(human.stdout).toMatch(/target is ready \(2 warnings\)/);
  });

  it('a database that does not exist: fine when the user may create it, a failure (exit 3) when not', async () => {
    const creator = await scramRole('CREATEDB');
    const missing = `missing_${Date.now()}`;
    const a = remoteProject(creator.urlFor(missing), 'password_env = "TARGET_PW"\n');
    const okResult = await cli(a.dir, ['--json', 'remote', 'test', 'target'], { TARGET_PW: creator.password, HOME: a.home });
    expect(okResult.exitCode, okResult.stdout).toBe(0);
    const okReport = parseJson<Report>(okResult);
    expect(okReport).toMatchObject({ databaseExists: false, ownsDatabase: null, database: missing });
    expect(check(okReport, 'database').detail).toMatch(/does not exist yet; .* may create it/);

    const plain = await scramRole('NOCREATEDB');
    const b = remoteProject(plain.urlFor(missing), 'password_env = "TARGET_PW"\n');
    const bad = await cli(b.dir, ['--json', 'remote', 'test', 'target'], { TARGET_PW: plain.password, HOME: b.home });
    expect(bad.exitCode).toBe(3);
    expect(check(parseJson<Report>(bad), 'database')).toMatchObject({ ok: false, severity: 'error' });
  });

  it('reads the password from ~/.pgpass (HOME) and from PGPASSFILE, like libpq', async () => {
    const role = await scramRole();
    const db = await remoteDatabase(role.name);
    const host = inject('remoteTcpHost');
    const port = inject('remoteTcpPort');
    const { dir, home } = remoteProject(role.urlFor(db));
    const line = `# host:port:database:user:password\n${host}:${port}:*:${role.name}:${role.password.replaceAll(':', '\\:')}\n`;

    const viaHome = await cli(dir, ['--json', 'remote', 'test', 'target'], { HOME: home });
    expect(viaHome.exitCode, 'no password anywhere yet').toBe(3);
    expect(check(parseJson<Report>(viaHome), 'connect').detail).toMatch(/asks for a password and none was found/);

    writeFileSync(path.join(home, '.pgpass'), line, { mode: 0o600 });
    const found = await cli(dir, ['--json', 'remote', 'test', 'target'], { HOME: home });
    expect(found.exitCode, found.stdout).toBe(0);
    expect(parseJson<Report>(found).currentUser).toBe(role.name);

    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'dbfast-pgpassfile-'));
    const passfile = path.join(elsewhere, 'passwords');
    writeFileSync(passfile, line, { mode: 0o600 });
    const emptyHome = mkdtempSync(path.join(os.tmpdir(), 'dbfast-home-'));
    const viaPgpassfile = await cli(dir, ['--json', 'remote', 'test', 'target'], { HOME: emptyHome, PGPASSFILE: passfile });
    expect(viaPgpassfile.exitCode, viaPgpassfile.stdout).toBe(0);

    // libpq ignores a password file others can read; so does dbfast, and says why.
    const loose = path.join(elsewhere, 'loose');
    writeFileSync(loose, line, { mode: 0o644 });
    const ignored = await cli(dir, ['--json', 'remote', 'test', 'target'], { HOME: emptyHome, PGPASSFILE: loose });
    expect(ignored.exitCode).toBe(3);
    expect(check(parseJson<Report>(ignored), 'connect').hint).toMatch(/readable by group or others.*chmod 0600/);
    expectNoSecret([viaHome, found, viaPgpassfile, ignored], role.password);
  });

  it('honours [tools] pg_bin_dir, and fails the tool checks (exit 3) when it has no pg_dump', async () => {
    const role = await scramRole('CREATEDB');
    const db = await remoteDatabase(role.name);
    const binDir = inject('pgBinDir');
    const good = remoteProject(role.urlFor(db), `password_env = "TARGET_PW"\n\n[tools]\npg_bin_dir = "${binDir}"\n`);
    const result = await cli(good.dir, ['--json', 'remote', 'test', 'target'], { TARGET_PW: role.password, HOME: good.home });
    expect(result.exitCode, result.stdout).toBe(0);
    const report = parseJson<Report>(result);
    expect(report.tools.pgDump?.path).toBe(path.join(binDir, 'pg_dump'));
    expect(check(report, 'pg_dump').detail).toContain('([tools] pg_bin_dir)');

    const empty = mkdtempSync(path.join(os.tmpdir(), 'dbfast-nobin-'));
    mkdirSync(path.join(empty, 'bin'));
    const bad = remoteProject(role.urlFor(db), `password_env = "TARGET_PW"\n\n[tools]\npg_bin_dir = "${path.join(empty, 'bin')}"\n`);
    const missing = await cli(bad.dir, ['--json', 'remote', 'test', 'target'], { TARGET_PW: role.password, HOME: bad.home });
    expect(missing.exitCode).toBe(3);
    const missingReport = parseJson<Report>(missing);
    expect(check(missingReport, 'pg_dump')).toMatchObject({ ok: false, severity: 'error' });
    expect(check(missingReport, 'pg_dump').detail).toMatch(/pg_dump is not in .*\[tools\] pg_bin_dir/);
    expect(missingReport.tools.pgDump).toBeNull();
  });

  it('configuration problems are usage errors (exit 2): an unknown remote, an unset password_env', async () => {
    const { dir, home } = remoteProject('postgresql://a@127.0.0.1:1/db', 'password_env = "UNSET_PW_VAR"\n');
    const unknown = await cli(dir, ['remote', 'test', 'nope'], { HOME: home });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/no remote named "nope"/);
    const unset = await cli(dir, ['remote', 'test', 'target'], { HOME: home, UNSET_PW_VAR: undefined });
    expect(unset.exitCode).toBe(2);
    expect(unset.stderr).toMatch(/remotes\.target\.password_env names UNSET_PW_VAR, which is not set/);
  });
});
