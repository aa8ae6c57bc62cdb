import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, parseJson, runCli, type CliResult } from '../support/cli.js';
import { createRemoteAccount, type RemoteAccount } from '../support/backup.js';
import { freePort, startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { databasesLike, dropDatabase, local, query, uniqueName } from '../support/db.js';
import { embeddedPostgresBinDir } from '../support/embedded.js';
import { startCli, waitUntil } from '../support/interrupt.js';

/*
 * Each problem doctor claims to find is made to happen for real (a killed build, a dropped
 * template, an edited file, a server of a newer major, a closed port...) and must be found,
 * with its code and a fix; a clean setup exits 0.
 */

interface Finding {
  code: string;
  check: string;
  severity: 'problem' | 'warning';
  message: string;
  fix: string;
}

interface Report {
  ok: boolean;
  configPath: string | null;
  checks: Array<{ name: string; status: string; detail: string }>;
  findings: Finding[];
}

interface DoctorProject {
  dir: string;
  template: string;
  templateName: string;
  env: Record<string, string | undefined>;
  file(relativePath: string, sql: string): void;
}

let account: RemoteAccount;
const folders: string[] = [];
const templateNames: string[] = [];

beforeAll(async () => {
  account = await createRemoteAccount({ createdb: true, prefix: 'doc' });
});

afterAll(async () => {
  for (const name of templateNames) for (const db of await databasesLike(local, name)) await dropDatabase(local, db).catch(() => undefined);
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A project on the local test cluster with one `local` environment and the given remotes (TOML). */
function doctorProject(options: { databaseUrl?: string | null; remotes?: string; extra?: string; env?: Record<string, string | undefined> } = {}): DoctorProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-doctor-'));
  folders.push(dir);
  const templateName = uniqueName('doc');
  templateNames.push(templateName);
  const database = options.databaseUrl === null ? '' : `[database]\nurl = ${JSON.stringify(options.databaseUrl ?? local.adminUrl)}\ntemplate_name = "${templateName}"\n\n`;
  const remotes = options.remotes ?? `[remotes.staging]\nurl = "${account.url}"\npassword_env = "${account.passwordEnv}"\nenvironment = "local"\n`;
  writeFileSync(
    path.join(dir, 'dbfast.toml'),
    `${database}[repository]\npath = "db"\n\n[environments.local]\n\n[backup]\ndir = "backups"\n${options.extra ?? ''}\n${remotes}`,
  );
  const file = (relativePath: string, sql: string): void => {
    mkdirSync(path.dirname(path.join(dir, 'db', relativePath)), { recursive: true });
    writeFileSync(path.join(dir, 'db', relativePath), sql);
  };
  file('0_schema/010_item.sql', 'CREATE TABLE item (id int PRIMARY KEY, name text);\n');
  return { dir, template: `${templateName}_local`, templateName, env: { [account.passwordEnv]: account.password, ...options.env }, file };
}

function run(p: DoctorProject, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, { cwd: p.dir, env: { PGPASSWORD: undefined, DBFAST_CONFIG: undefined, ...p.env, ...env } });
}

async function must(p: DoctorProject, args: string[]): Promise<CliResult> {
  const result = await run(p, args);
  if (result.exitCode !== 0) throw new Error(`dbfast ${args.join(' ')} exited ${result.exitCode}:\n${result.stdout}\n${result.stderr}`);
  return result;
}

async function doctor(p: DoctorProject, args: string[] = [], env: Record<string, string | undefined> = {}): Promise<{ exitCode: number | null; report: Report; text: string }> {
  const json = await run(p, ['--json', 'doctor', ...args], env);
  const text = await run(p, ['doctor', ...args], env);
  expect(text.exitCode, text.stdout + text.stderr).toBe(json.exitCode);
  for (const output of [json.stdout, json.stderr, text.stdout, text.stderr]) expect(output).not.toContain(account.password);
  return { exitCode: json.exitCode, report: parseJson<Report>(json), text: text.stdout };
}

function finding(report: Report, code: string): Finding {
  const found = report.findings.find((f) => f.code === code);
  if (!found) throw new Error(`no ${code} finding in:\n${JSON.stringify(report, null, 2)}`);
  expect(found.fix.length).toBeGreaterThan(0);
  return found;
}

describe('dbfast doctor', () => {
  it('a clean setup: every check ok, no finding, exit 0', async () => {
    const p = doctorProject();
    await must(p, ['build', '--env', 'local']);
    await must(p, ['backup', 'create', '--remote', 'staging']);
    const { exitCode, report, text } = await doctor(p);
    expect(report.findings).toEqual([]);
    expect(exitCode).toBe(0);
    expect(report.ok).toBe(true);
    const names = report.checks.map((check) => check.name);
    for (const name of ['config', 'local server', 'tools', 'local databases', 'templates', 'backup folder', 'remote staging', 'backups staging']) expect(names).toContain(name);
    expect(report.checks.every((check) => check.status === 'ok')).toBe(true);
    expect(text).toMatch(/ok\s+remote staging\s+reachable: PostgreSQL \d+/);
    expect(text.trim().endsWith('no problems found')).toBe(true);
  });

  it('a config that does not load is a finding with its key, and nothing else is checked', async () => {
    const p = doctorProject({ extra: 'colour = "blue"\n' });
    const { exitCode, report, text } = await doctor(p);
    expect(exitCode).toBe(3);
    expect(report.findings).toHaveLength(1);
    expect(finding(report, 'CONFIG_INVALID')).toMatchObject({ check: 'config', severity: 'problem' });
    expect(finding(report, 'CONFIG_INVALID').message).toContain('colour');
    expect(text).toContain('1 problem found');
  });

  it('the local server: unreachable, then reachable as a role without CREATEDB', async () => {
    const port = await freePort();
    const down = await doctor(doctorProject({ databaseUrl: `postgresql://postgres@127.0.0.1:${port}/postgres` }));
    expect(down.exitCode).toBe(3);
    expect(finding(down.report, 'CONNECTION_FAILED').check).toBe('local server');
    // Nothing that needs the local server ran against it.
    expect(down.report.checks.some((check) => check.name === 'templates')).toBe(false);

    const role = uniqueName('nocreatedb');
    await query(local.adminUrl, `CREATE ROLE "${role}" LOGIN`);
    try {
      const url = new URL(local.adminUrl);
      url.username = role;
      const limited = await doctor(doctorProject({ databaseUrl: url.toString() }));
      expect(limited.exitCode).toBe(3);
      const found = finding(limited.report, 'LOCAL_NO_CREATEDB');
      expect(found.message).toContain(`${role} may not create databases`);
      expect(found.fix).toContain(`ALTER ROLE "${role}" CREATEDB`);
    } finally {
      await query(local.adminUrl, `DROP ROLE IF EXISTS "${role}"`);
    }
  });

  it('client tools: missing from [tools] pg_bin_dir, and older than a remote server of a newer major', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'dbfast-doctor-bin-'));
    folders.push(empty);
    const missing = await doctor(doctorProject({ extra: `\n[tools]\npg_bin_dir = ${JSON.stringify(empty)}\n` }));
    expect(missing.exitCode).toBe(3);
    const tools = missing.report.findings.filter((f) => f.check === 'tools' && f.code === 'TOOL_MISSING');
    expect(tools.map((f) => [f.message.split(' ')[0], f.severity])).toEqual([['pg_dump', 'problem'], ['pg_restore', 'problem'], ['psql', 'warning']]);

    const cluster: Cluster = await startCluster({ name: 'doctor-newer', binDir: await embeddedPostgresBinDir(), scram: false });
    try {
      const p = doctorProject({ remotes: `[remotes.newer]\nurl = "${cluster.adminUrl}"\nenvironment = "local"\n` });
      const newer = await doctor(p);
      expect(newer.exitCode).toBe(3);
      const old = newer.report.findings.filter((f) => f.code === 'TOOL_TOO_OLD');
      expect(old.map((f) => f.check)).toEqual(['remote newer', 'remote newer']);
      expect(old[0]?.message).toMatch(/^pg_dump \d+(\.\d+)? cannot work with a PostgreSQL \d+ server/);
      expect(old[0]?.fix).toContain('[tools] pg_bin_dir');
    } finally {
      stopCluster(cluster);
    }
  });

  it('a side database left by a killed build, and a clone whose template was dropped', async () => {
    const p = doctorProject();
    p.file('1_slow/010_wait.sql', 'SELECT pg_sleep(2);\n');
    const build = startCli({ dir: p.dir, backupDir: '', env: p.env as Record<string, string> }, ['build', '--env', 'local']);
    const sidePrefix = `${p.template}__dbfast_build_`;
    const sleeping = async (): Promise<boolean> =>
      (await query(local.adminUrl, "SELECT 1 FROM pg_stat_activity WHERE starts_with(datname, $1) AND query ILIKE '%pg_sleep(2)%'", [sidePrefix])).length > 0;
    await waitUntil('the build runs its slow file in the side database', sleeping, { running: build });
    process.kill(-(build.child.pid as number), 'SIGKILL');
    await build.exited;
    // The killed client's server session ends once pg_sleep returns; until then its build lock is held.
    await waitUntil('the killed build released its lock', async () => {
      const rows = await query(local.adminUrl, 'SELECT 1 FROM pg_stat_activity WHERE datname = ANY($1::text[])', [await databasesLike(local, sidePrefix)]);
      return rows.length === 0;
    });
    const [side] = await databasesLike(local, sidePrefix);
    const leftover = await doctor(p);
    expect(leftover.exitCode).toBe(3);
    const found = finding(leftover.report, 'LEFTOVER_DATABASE');
    expect(found).toMatchObject({ check: 'local databases', severity: 'problem' });
    expect(found.message).toContain(`"${side}" is left over from an interrupted build of ${p.template}`);
    expect(found.fix).toContain(`dbfast drop ${side}`);
    // Doctor only reads: what it reports is still there for the fix it gives.
    expect(await databasesLike(local, sidePrefix)).toEqual([side]);
    await must(p, ['drop', side as string]);

    const clone = uniqueName('docclone');
    templateNames.push(clone);
    await must(p, ['seed', '--env', 'local', '--output', clone]);
    await must(p, ['drop', p.template]);
    const stray = await doctor(p);
    const strayFinding = finding(stray.report, 'STRAY_CLONE');
    expect(strayFinding).toMatchObject({ check: 'local databases', severity: 'warning' });
    expect(strayFinding.message).toContain(`clone "${clone}" was made from template ${p.template}, which no longer exists`);
    expect(stray.report.findings.some((f) => f.code === 'LEFTOVER_DATABASE')).toBe(false);
  });

  it('a stale template: a file changed since the build; building again clears it', async () => {
    const p = doctorProject();
    await must(p, ['build', '--env', 'local']);
    p.file('0_schema/010_item.sql', 'CREATE TABLE item (id int PRIMARY KEY, name text, price int);\n');
    const stale = await doctor(p);
    expect(stale.exitCode).toBe(3);
    const found = finding(stale.report, 'TEMPLATE_STALE');
    expect(found.message).toBe(`template ${p.template} (environment local) is stale: ~0_schema/010_item.sql`);
    expect(found.fix).toBe('dbfast build --env local');
    await must(p, ['build', '--env', 'local']);
    expect((await doctor(p)).report.findings.some((f) => f.code === 'TEMPLATE_STALE')).toBe(false);
  });

  it('backup folders: a file where the folder should be, and less free space than asked for', async () => {
    const p = doctorProject();
    writeFileSync(path.join(p.dir, 'backups'), 'not a folder\n');
    const blocked = await doctor(p);
    expect(blocked.exitCode).toBe(3);
    expect(finding(blocked.report, 'BACKUP_DIR_UNWRITABLE').message).toContain(`backup folder ${path.join(p.dir, 'backups')} cannot be created`);
    rmSync(path.join(p.dir, 'backups'));

    const full = await doctor(p, ['--min-free-mb', String(1024 ** 3)]);
    expect(full.exitCode).toBe(3);
    expect(finding(full.report, 'BACKUP_DIR_LOW_SPACE').message).toMatch(/ free, less than the 1\.0 PiB asked for$/);
  });

  it('a backup folder the user running dbfast may not write to', async () => {
    const p = doctorProject({ remotes: '' });
    const backups = path.join(p.dir, 'backups');
    mkdirSync(backups);
    chmodSync(p.dir, 0o755);
    // Root writes anywhere: as root, run dbfast as the postgres user (the folder stays root's); otherwise take the write bit away.
    const root = process.getuid?.() === 0;
    if (!root) chmodSync(backups, 0o555);
    const args = ['--json', 'doctor'];
    const result = root
      ? await new Promise<CliResult>((resolve, reject) => {
          execFile('runuser', ['-u', 'postgres', '--', process.execPath, CLI, ...args], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
            if (error && typeof error.code !== 'number') reject(error);
            else resolve({ exitCode: error ? Number(error.code) : 0, signal: null, stdout, stderr });
          });
        })
      : await run(p, args);
    expect(result.exitCode, result.stderr).toBe(3);
    const found = finding(parseJson<Report>(result), 'BACKUP_DIR_UNWRITABLE');
    expect(found.message).toMatch(new RegExp(`^backup folder ${backups} is not writable: EACCES`));
    expect(found.fix).toContain(`write access to ${backups}`);
    expect(readdirSync(backups)).toEqual([]);
  });

  it("each remote's last backup: older than --max-backup-age; production with none", async () => {
    const production = await createRemoteAccount({ createdb: true, prefix: 'docprod' });
    const p = doctorProject({
      remotes: [
        `[remotes.staging]\nurl = "${account.url}"\npassword_env = "${account.passwordEnv}"\nenvironment = "local"\n`,
        `[remotes.production]\nurl = "${production.url}"\npassword_env = "${production.passwordEnv}"\nenvironment = "production"\n`,
      ].join('\n'),
      extra: '\n[environments.production]\n',
      env: { [production.passwordEnv]: production.password },
    });
    const created = parseJson<{ backup: { id: string } }>(await must(p, ['--json', 'backup', 'create', '--remote', 'staging']));
    // A day and a half cannot pass in a test: the backup's recorded time is moved back, as backup check's own test does.
    const meta = path.join(p.dir, 'backups', 'staging', `${created.backup.id}.json`);
    const info = JSON.parse(readFileSync(meta, 'utf8')) as { createdAt: string };
    info.createdAt = new Date(Date.now() - 36 * 3_600_000).toISOString();
    writeFileSync(meta, JSON.stringify(info));
    const { exitCode, report } = await doctor(p, ['--max-backup-age', '24h']);
    expect(exitCode).toBe(3);
    expect(finding(report, 'BACKUP_TOO_OLD')).toMatchObject({ check: 'backups staging', severity: 'problem' });
    expect(finding(report, 'BACKUP_TOO_OLD').fix).toContain('dbfast backup create --remote staging');
    expect(finding(report, 'NO_BACKUPS')).toMatchObject({ check: 'backups production', severity: 'problem' });
    expect((await doctor(p, ['--max-backup-age', '2d'])).report.findings.map((f) => f.code)).toEqual(['NO_BACKUPS']);
  });

  it('remotes: one unreachable, one without its password variable, one whose database the role may not create', async () => {
    const port = await freePort();
    const limited = await createRemoteAccount({ createdb: false, prefix: 'doclim' });
    const missingDb = limited.url.replace(/\/[^/]+$/, `/${uniqueName('nodb')}`);
    const p = doctorProject({
      remotes: [
        `[remotes.down]\nurl = "postgresql://app@127.0.0.1:${port}/shop"\nenvironment = "local"\n`,
        `[remotes.nopw]\nurl = "${account.url}"\npassword_env = "DBFAST_DOCTOR_UNSET_PW"\nenvironment = "local"\n`,
        `[remotes.limited]\nurl = "${missingDb}"\npassword_env = "${limited.passwordEnv}"\nenvironment = "local"\n`,
      ].join('\n'),
      env: { [limited.passwordEnv]: limited.password, DBFAST_DOCTOR_UNSET_PW: undefined },
    });
    const { exitCode, report } = await doctor(p);
    expect(exitCode).toBe(3);
    const byCheck = (check: string): string[] => report.findings.filter((f) => f.check === check).map((f) => f.code);
    expect(byCheck('remote down')).toEqual(['CONNECTION_FAILED']);
    expect(byCheck('remote nopw')).toEqual(['PASSWORD_ENV_UNSET']);
    expect(byCheck('remote limited')).toContain('REMOTE_PRIVILEGES');
    expect(report.findings.find((f) => f.check === 'remote limited')?.fix).toContain('CREATE DATABASE');
  });

  it('the managed server: reports that it is not set up and starts nothing', async () => {
    const serverDir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-doctor-managed-'));
    folders.push(serverDir);
    const p = doctorProject({ databaseUrl: null, remotes: '' });
    const env = { DBFAST_SERVER_DIR: serverDir, DATABASE_URL: undefined, DBFAST_DATABASE_URL: undefined, PGHOST: undefined, PGPORT: undefined };
    const { exitCode, report } = await doctor(p, [], env);
    expect(report.checks.find((check) => check.name === 'local server')?.detail).toContain('managed server, which is not set up yet');
    expect(report.checks.find((check) => check.name === 'local databases')?.status).toBe('skipped');
    expect(exitCode).toBe(0);
    expect(readdirSync(serverDir)).toEqual([]);
  });
});
