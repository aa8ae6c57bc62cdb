import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, type CliResult } from '../support/cli.js';
import { startCluster, stopCluster, type Cluster } from '../support/cluster.js';
import { query, urlFor } from '../support/db.js';
import { cli, cliJson, createRemoteAccount, filesIn, seedShop, writeProject } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';
import { findServerBinDir } from '../support/pgbin.js';

interface ErrorBody {
  error: { code: string; message: string; hint: string | null; exitCode: number };
}

function errorOf(result: CliResult): ErrorBody['error'] {
  return parseJson<ErrorBody>(result).error;
}

const IS_ROOT = process.getuid?.() === 0;

/** Runs a server tool as `postgres` when we are root (as the cluster's own set-up does). */
function asServerUser(command: string[]): string[] {
  return IS_ROOT ? ['runuser', '-u', 'postgres', '--', ...command] : command;
}

function shellWord(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

describe('a server restart in the middle of a deploy', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    const binDir = await findServerBinDir();
    if (!binDir) throw new Error('no PostgreSQL server binaries (initdb, pg_ctl) found: this test restarts a cluster of its own');
    cluster = await startCluster({ name: 'restart', binDir, scram: true });
  });
  afterAll(() => {
    if (cluster) stopCluster(cluster);
  });

  it('is a lost connection with its own code and hint, not "a bug in dbfast"', async () => {
    await query(urlFor(cluster.adminUrl, 'postgres'), 'CREATE DATABASE appdb');
    await query(urlFor(cluster.adminUrl, 'appdb'), 'CREATE TABLE before_deploy (id int); INSERT INTO before_deploy VALUES (1)');
    const account = {
      role: 'postgres',
      password: cluster.superuserPassword,
      database: 'appdb',
      url: `postgresql://postgres@127.0.0.1:${cluster.port}/appdb`,
      adminDbUrl: urlFor(cluster.adminUrl, 'appdb'),
      passwordEnv: 'RESTART_TEST_PW',
    };
    // The pre hook restarts the real server: the deploy's open admin connection dies, as with a restart by the provider.
    const restart = asServerUser([path.join(cluster.binDir, 'pg_ctl'), '-D', cluster.dataDir, '-l', path.join(cluster.baseDir, 'server.log'), '-m', 'fast', '-w', 'restart']);
    const project = writeDeployProject([{ name: 'staging', account, deploy: { pre: [restart.map(shellWord).join(' ')] } }]);
    const result = await cli(project, ['--json', 'deploy', 'staging']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('CONNECTION_LOST');
    expect(error.message).toMatch(/lost the connection to the server/);
    expect(error.hint).toMatch(/server restarted, shut down or the network dropped/);
    expect(`${error.message}${error.hint}`).not.toMatch(/bug in dbfast/);
    // The live database is as it was, and no side database is left.
    expect(await query(urlFor(cluster.adminUrl, 'appdb'), 'SELECT id FROM before_deploy')).toEqual([{ id: 1 }]);
    const left = await query<{ datname: string }>(urlFor(cluster.adminUrl, 'postgres'), "SELECT datname FROM pg_database WHERE datname LIKE 'appdb\\_\\_dbfast\\_new'");
    expect(left).toEqual([]);
  });
});

describe('a full disk while writing the backup metadata', () => {
  const mounts: string[] = [];
  afterAll(() => {
    for (const dir of mounts.splice(0)) execFileSync('umount', [dir]);
  });

  it('is DISK_FULL naming the file and the folder to free, and leaves no archive that looks like a backup', async () => {
    if (!IS_ROOT) throw new Error('this test mounts a small tmpfs (a really full file system) and needs root');
    const account = await createRemoteAccount({ createdb: true, prefix: 'full' });
    // Many tables with long names: the metadata (one entry per table) is far bigger than the compressed archive.
    const tables = Array.from({ length: 1500 }, (_, i) => `CREATE TABLE public.a_rather_long_table_name_to_make_the_metadata_large_${i} (id int);`).join('\n');
    await query(account.adminDbUrl, `${tables}\nDO $$ DECLARE r record; BEGIN FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP EXECUTE format('ALTER TABLE public.%I OWNER TO %I', r.tablename, '${account.role}'); END LOOP; END $$;`);
    const project = writeProject([{ name: 'target', account }]);

    // Measured once on a normal disk: the archive and its metadata.
    const { backup } = await cliJson<{ backup: { id: string; file: string } }>(project, ['backup', 'create', '--remote', 'target']);
    const folder = path.join(project.backupDir, 'target');
    const archiveBytes = statSync(path.resolve(folder, backup.file)).size;
    const metadataBytes = statSync(path.join(folder, `${backup.id}.json`)).size;
    expect(metadataBytes).toBeGreaterThan(archiveBytes);

    // Room for the archive (and the lock file) but not for the metadata.
    const full = path.join(project.dir, 'full-disk');
    mkdirSync(full);
    const page = 4096;
    const size = (Math.ceil(archiveBytes / page) + 2) * page + Math.floor(metadataBytes / 2 / page) * page;
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', full]);
    mounts.push(full);
    writeFileSync(path.join(project.dir, 'dbfast.toml'), readFileSync(path.join(project.dir, 'dbfast.toml'), 'utf8').replace('dir = "backups"', 'dir = "full-disk"'));

    const result = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toMatch(/^no space left on the device while writing \S*full-disk\/target\/\S+\.json \(/);
    expect(error.hint).toContain(`df -h ${path.join(full, 'target')}`);
    expect(`${error.message}${error.hint}`).not.toMatch(/bug in dbfast/);
    // Neither an archive nor metadata: nothing that looks like a backup.
    expect(filesIn(path.join(full, 'target')).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('a dump that fills the disk is DISK_FULL too, naming the archive it was writing', async () => {
    if (!IS_ROOT) throw new Error('this test mounts a small tmpfs (a really full file system) and needs root');
    const account = await createRemoteAccount({ createdb: true, prefix: 'fulldump' });
    await seedShop(account, 5000);
    const project = writeProject([{ name: 'target', account }], { compression: 'none' });
    const full = path.join(project.dir, 'backups');
    mkdirSync(full);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
    mounts.push(full);
    const result = await cli(project, ['--json', 'backup', 'create', '--remote', 'target']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('DISK_FULL');
    expect(error.message).toMatch(/^no space left on the device while writing \S*backups\/target\/\S+\.dump \(/);
    expect(readdirSync(path.join(full, 'target')).filter((name) => !name.startsWith('.'))).toEqual([]);
  });
});

describe('a backup folder dbfast may not write', () => {
  it('is FILE_ACCESS_DENIED naming the folder and who runs dbfast', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'eacces' });
    const project = writeProject([{ name: 'target', account }]);
    // A folder of root's (as root: dbfast runs as `postgres`, so root's mode bits apply for real).
    const backups = path.join(project.dir, 'backups');
    mkdirSync(backups, { mode: 0o755 });
    chmodSync(backups, 0o555);
    chmodSync(project.dir, 0o755);
    const args = ['--json', 'backup', 'create', '--remote', 'target'];
    const result = IS_ROOT ? await runAs('postgres', args, project.dir, project.env) : await runCli(args, { cwd: project.dir, env: project.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const error = errorOf(result);
    expect(error.code).toBe('FILE_ACCESS_DENIED');
    expect(error.message).toContain(path.join(backups, 'target'));
    expect(error.hint).toMatch(/Let \S+ \(who runs dbfast\) read and write/);
  });
});

/** The CLI as another OS user (root only): its file-system permission checks are real, unlike root's. */
async function runAs(user: string, args: string[], cwd: string, env: Record<string, string>): Promise<CliResult> {
  const { spawn } = await import('node:child_process');
  const { CLI, outputOf } = await import('../support/cli.js');
  return outputOf(spawn('runuser', ['-u', user, '--', process.execPath, CLI, ...args], { cwd, env: { ...process.env, ...env, NO_COLOR: '1' } }));
}
