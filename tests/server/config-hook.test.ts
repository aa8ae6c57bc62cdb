import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seed } from '../../src/index.js';
import { tomlString } from '../../src/project/init-render.js';
import { parseJson } from '../support/cli.js';
import { databasesLike, local, trackDatabase, uniqueName } from '../support/db.js';
import { tempDir } from '../support/files.js';
import { cli, cliJson, serverDir, writeManagedProject } from './support.js';

interface Seeded {
  database: string;
  url: string;
}

describe('which local server a command uses', () => {
  it('uses the configured server when [database] url names one: no managed server is started', async () => {
    const root = serverDir();
    const templateName = uniqueName('hk');
    const project = writeManagedProject(tempDir(), { templateName, extraToml: `url = ${tomlString(local.adminUrl)}\n` });
    const output = uniqueName('explicit');
    trackDatabase(local, output);
    trackDatabase(local, `${templateName}_local`);
    const seeded = await cliJson<Seeded>(root, ['seed', '--output', output], { cwd: project });
    expect(seeded.url).not.toContain(root);
    expect(await databasesLike(local, output)).toEqual([output]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('uses DATABASE_URL when the file names no server, through the library too', async () => {
    const root = serverDir();
    const templateName = uniqueName('hl');
    const project = writeManagedProject(tempDir(), { templateName });
    trackDatabase(local, `${templateName}_local`);
    const output = uniqueName('viaenv');
    trackDatabase(local, output);
    const seeded = await cliJson<Seeded>(root, ['seed', '--output', output], { cwd: project, extraEnv: { DATABASE_URL: local.adminUrl } });
    expect(await databasesLike(local, output)).toEqual([output]);
    expect(seeded.url).not.toContain(root);
    const again = uniqueName('vialib');
    trackDatabase(local, again);
    const previous = process.env.DBFAST_SERVER_DIR;
    process.env.DBFAST_SERVER_DIR = root;
    try {
      await seed({ configPath: `${project}/dbfast.toml`, env: { DATABASE_URL: local.adminUrl }, output: again });
    } finally {
      if (previous === undefined) delete process.env.DBFAST_SERVER_DIR;
      else process.env.DBFAST_SERVER_DIR = previous;
    }
    expect(await databasesLike(local, again)).toEqual([again]);
    expect(readdirSync(root)).toEqual([]);
  });

  it('server = "external" never starts the managed server: the connection error says what to do', async () => {
    const root = serverDir();
    const project = writeManagedProject(tempDir(), { extraToml: 'server = "external"\n' });
    const result = await cli(root, ['--json', 'seed', '--output', 'nope'], { cwd: project, extraEnv: { PGHOST: '/nonexistent-dbfast-socket-dir' } });
    expect(result.exitCode).toBe(1);
    expect(parseJson<{ error: { code: string; hint: string } }>(result).error).toMatchObject({ code: 'CONNECTION_FAILED', hint: expect.stringContaining('start PostgreSQL') });
    expect(readdirSync(root)).toEqual([]);
  });

  it('server = "managed" uses the managed server even with DATABASE_URL set (for the application)', async () => {
    const root = serverDir();
    const project = writeManagedProject(tempDir(), { extraToml: 'server = "managed"\n' });
    const seeded = await cliJson<Seeded>(root, ['seed', '--output', 'managed_db'], { cwd: project, extraEnv: { DATABASE_URL: local.adminUrl } });
    expect(seeded.url).toContain(encodeURIComponent(root));
    expect(await databasesLike(local, 'managed_db')).toEqual([]);
    // Every other command that needs the local server goes there too.
    const status = await cli(root, ['--json', 'status'], { cwd: project, extraEnv: { DATABASE_URL: local.adminUrl } });
    expect(parseJson<{ environments: Array<{ state: string }> }>(status).environments[0]?.state).toBe('fresh');
    const list = await cliJson<{ databases: Array<{ name: string; kind: string }> }>(root, ['list'], { cwd: project, extraEnv: { DATABASE_URL: local.adminUrl } });
    // (and the ready database the seed's background refill makes there, once it has, listed as the pool's)
    expect(list.databases.filter((db) => db.kind !== 'pool').map((db) => db.name)).toEqual(['managed_db', 'srv_local']);
  });
});
