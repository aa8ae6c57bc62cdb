import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { localTarget } from '../../src/server/managed.js';
import { databaseName } from '../../src/pg/target.js';
import { withClient } from '../../src/pg/client.js';
import { tomlString } from '../../src/project/init-render.js';
import { freshDatabase, local, query, remote } from '../support/db.js';
import { tempDir, writeTree } from '../support/files.js';

describe('dbfast.toml pointing at the test clusters', () => {
  it('connects to the local cluster through [database] url', async () => {
    const db = await freshDatabase(local, 'cfg');
    await query(db.url, 'CREATE TABLE marker (id int)');
    const dir = writeTree(tempDir(), { 'dbfast.toml': `[database]\nurl = ${tomlString(db.url)}\ntemplate_name = "cfg"\n` });
    const config = loadConfig({ cwd: dir, env: {} });
    const target = await localTarget(config, {});
    expect(databaseName(target)).toBe(db.name);
    const rows = await withClient(target, async (client) => (await client.query<{ db: string; n: string }>(
      "SELECT current_database() AS db, count(*)::text AS n FROM pg_class WHERE relname = 'marker'",
    )).rows);
    expect(rows).toEqual([{ db: db.name, n: '1' }]);
  });

  it('reaches the same server through ${VAR} interpolation and DATABASE_URL fallback', async () => {
    const dir = writeTree(tempDir(), { 'dbfast.toml': '[database]\nurl = "${LOCAL_PG}"\n' });
    const viaVar = await localTarget(loadConfig({ cwd: dir, env: { LOCAL_PG: local.adminUrl } }));
    const fallback = writeTree(tempDir(), { 'dbfast.toml': '[repository]\npath = "."\n' });
    const viaDatabaseUrl = await localTarget(loadConfig({ cwd: fallback, env: { DATABASE_URL: local.adminUrl } }));
    const port = async (target: typeof viaVar) =>
      withClient(target, async (client) => (await client.query<{ port: string }>("SELECT current_setting('port') AS port")).rows[0]?.port);
    const [expected] = await query<{ port: string }>(local.adminUrl, "SELECT current_setting('port') AS port");
    expect(await port(viaVar)).toBe(expected?.port);
    expect(await port(viaDatabaseUrl)).toBe(expected?.port);
    const [other] = await query<{ port: string }>(remote.adminUrl, "SELECT current_setting('port') AS port");
    expect(other?.port).not.toBe(expected?.port);
  });

  it('fails to connect with a clear error when the configured database does not exist', async () => {
    const missing = new URL(local.adminUrl);
    missing.pathname = '/no_such_db_for_dbfast';
    const dir = writeTree(tempDir(), { 'dbfast.toml': `[database]\nurl = ${tomlString(missing.toString())}\n` });
    const target = await localTarget(loadConfig({ cwd: dir, env: {} }), {});
    await expect(withClient(target, async () => undefined)).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      hint: expect.stringContaining('does not exist'),
    });
  });
});
