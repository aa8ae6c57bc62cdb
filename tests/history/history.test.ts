import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { DbfastConfig } from '../../src/config/types.js';
import { carryOverDbfastSchema } from '../../src/history/schema.js';
import { newRecord, readLocalHistory, readRemoteHistory, recordLocally, recordOnRemote } from '../../src/history/records.js';
import { freshDatabase, query, remote } from '../support/db.js';

async function connected(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

describe('deploy history', () => {
  it('records on the remote, readable by a role with no other privileges, newest first', async () => {
    const db = await freshDatabase(remote);
    const client = await connected(db.url);
    try {
      const first = { ...newRecord({ deployId: 'd1', kind: 'deploy', remote: 'staging', environment: 'test', database: db.name }), result: 'success' as const };
      await recordOnRemote(client, first);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const second = { ...newRecord({ deployId: 'd2', kind: 'deploy', remote: 'staging', environment: 'test', database: db.name }), error: 'boom' };
      await recordOnRemote(client, second);
      await recordOnRemote(client, { ...second, result: 'rolled_back', durationMs: 42 });
      const rows = await readRemoteHistory(client, 10);
      expect(rows.map((r) => [r.deployId, r.result])).toEqual([['d2', 'rolled_back'], ['d1', 'success']]);
      expect(rows[0]?.durationMs).toBe(42);
      expect(rows[0]?.error).toBe('boom');

      const reader = `reader_${Date.now()}`;
      await query(remote.adminUrl, `CREATE ROLE "${reader}" LOGIN`);
      const asReader = new URL(db.url);
      asReader.username = reader;
      const readable = await query<{ n: string }>(asReader.toString(), 'SELECT count(*) AS n FROM dbfast.deploy_history');
      expect(Number(readable[0]?.n)).toBe(2);
      await query(db.url, `DROP OWNED BY "${reader}"`);
      await query(remote.adminUrl, `DROP ROLE "${reader}"`);
    } finally {
      await client.end();
    }
  });

  it('carries the history over into the database that replaces the live one', async () => {
    const live = await freshDatabase(remote);
    const side = await freshDatabase(remote);
    const [from, to] = [await connected(live.url), await connected(side.url)];
    try {
      for (const id of ['a', 'b', 'c']) {
        await recordOnRemote(from, { ...newRecord({ deployId: id, kind: 'deploy', remote: 'r', environment: 'e', database: live.name }), result: 'success' });
      }
      // deploy_history and migrations: every table of the dbfast schema, empty or not.
      expect(await carryOverDbfastSchema(from, to)).toBe(2);
      await recordOnRemote(to, newRecord({ deployId: 'd', kind: 'deploy', remote: 'r', environment: 'e', database: live.name }));
      const rows = await readRemoteHistory(to, 10);
      expect(rows.map((r) => r.deployId).sort()).toEqual(['a', 'b', 'c', 'd']);
    } finally {
      await from.end();
      await to.end();
    }
  });

  it('keeps a local JSON-lines history that tolerates a torn last line', async () => {
    const rootDir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-history-'));
    const config = { rootDir } as DbfastConfig;
    await recordLocally(config, newRecord({ deployId: 'x1', kind: 'deploy', remote: 'prod', environment: 'production', database: 'shop' }));
    await recordLocally(config, newRecord({ deployId: 'x2', kind: 'rollback', remote: 'prod', environment: 'production', database: 'shop' }));
    const { appendFileSync } = await import('node:fs');
    appendFileSync(path.join(rootDir, '.dbfast/history/prod.jsonl'), '{"deployId": "torn');
    const records = await readLocalHistory(config, 'prod', 10);
    expect(records.map((r) => r.deployId)).toEqual(['x2', 'x1']);
    expect(await readLocalHistory(config, 'other', 10)).toEqual([]);
  });
});
