import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { list } from '../../src/local/list.js';
import { loadConfig } from '../../src/config/load.js';
import { createRemoteAccount } from '../support/backup.js';
import { databasesLike, local } from '../support/db.js';
import { tempDir } from '../support/files.js';
import { runCli } from '../support/cli.js';
import { writeDeployProject } from '../support/deploy.js';
import { databaseExists, startCli, waitUntil } from './support.js';

/** A pg_bin_dir whose pg_dump touches `started` and then waits a minute before dumping: a dump in progress, on demand. */
function slowDumpBinDir(started: string): string {
  const dir = mkdtempSync(path.join(tempDir(), 'bin-'));
  const real = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  for (const tool of ['pg_restore', 'psql']) symlinkSync(path.join(real, tool), path.join(dir, tool));
  const script = [
    '#!/bin/sh',
    `for arg in "$@"; do case "$arg" in --version) exec ${path.join(real, 'pg_dump')} "$@";; esac; done`,
    `touch ${JSON.stringify(started)}`,
    'sleep 60',
    `exec ${path.join(real, 'pg_dump')} "$@"`,
  ];
  writeFileSync(path.join(dir, 'pg_dump'), `${script.join('\n')}\n`);
  chmodSync(path.join(dir, 'pg_dump'), 0o755);
  return dir;
}

describe("a deploy killed during its template dump (issue 9.11, local part)", () => {
  it('leaves a scratch database the next command recognises and drops', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'dumpkill' });
    const started = path.join(tempDir(), 'dump-started');
    const project = writeDeployProject([{ name: 'staging', account }], { pgBinDir: slowDumpBinDir(started) });
    const run = startCli(['deploy', '--remote', 'staging'], project.dir, project.env);
    await waitUntil('pg_dump to start on the scratch database', async () => existsSync(started), 120_000);
    // Like a killed terminal: the whole process group, dbfast and its pg_dump.
    process.kill(-(run.child.pid as number), 'SIGKILL');
    await run.exited;
    const [scratch] = (await databasesLike(local, project.templateName)).filter((name) => /__dbfast_dump_[0-9a-f]{8}$/.test(name));
    expect(scratch, 'the scratch database the dump was reading').toBeDefined();
    const config = loadConfig({ configPath: path.join(project.dir, 'dbfast.toml'), env: {} });
    const listed = (await list({ config })).databases.find((database) => database.name === scratch);
    expect(listed).toMatchObject({ kind: 'leftover', inUse: false, project: true });
    const next = await runCli(['status'], { cwd: project.dir, env: { ...project.env, DBFAST_BACKGROUND: 'wait', DBFAST_CONFIG: undefined } });
    expect(next.exitCode, next.stderr).toBe(0);
    expect(await databaseExists(scratch as string)).toBe(false);
  });
});
