// Ad-hoc: peak RSS of backup create/restore through S3 for a large uncompressed archive.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startCluster, stopCluster } from '../tests/support/cluster.js';
import { findServerBinDir } from '../tests/support/pgbin.js';
import { startS3Server, removeS3Server } from '../tests/support/s3.js';
import { CLI } from './lib.js';

const binDir = findServerBinDir() as string;
const cluster = await startCluster({ name: 'rss', binDir, scram: false });
const s3 = await startS3Server('rss');
try {
  const c = new pg.Client({ connectionString: cluster.adminUrl });
  await c.connect();
  await c.query('CREATE DATABASE big');
  await c.end();
  const url = new URL(cluster.adminUrl); url.pathname = '/big';
  const d = new pg.Client({ connectionString: url.toString() });
  await d.connect();
  await d.query(`CREATE TABLE t AS SELECT g AS id, md5(g::text) || md5((g*7)::text) || md5((g*13)::text) || md5((g*31)::text) AS p FROM generate_series(1, ${process.env.ROWS ?? 2500000}) g`);
  await d.end();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rss-'));
  writeFileSync(path.join(dir, 'dbfast.toml'), `[database]\nurl = "${cluster.adminUrl}"\n[environments.x]\n[backup]\ndir = "s3://rss/b"\ncompression = "none"\nendpoint = "${s3.endpoint}"\nforce_path_style = true\n[remotes.x]\nurl = "${url.toString()}"\nenvironment = "x"\n`);
  // The S3 server runs in this process: time the CLI asynchronously.
  const { spawn } = await import('node:child_process');
  const run = (args: string[]) => new Promise<string>((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', '%M KiB %e s', process.execPath, CLI, '--json', ...args], { cwd: dir, env: { ...process.env, ...s3.env } });
    let out = ''; let err = '';
    child.stdout.on('data', (x) => (out += x)); child.stderr.on('data', (x) => (err += x));
    child.on('close', () => resolve(`${out.slice(0, 300)}\n${err.trim().split('\n').pop()}`));
  });
  const created = await run(['backup', 'create', '--remote', 'x']);
  console.log('create', created);
  console.log('restore', await run(['backup', 'restore', '--remote', 'x', '--backup-id', 'latest']));
  void spawnSync;
} finally {
  await removeS3Server(s3);
  stopCluster(cluster);
}
