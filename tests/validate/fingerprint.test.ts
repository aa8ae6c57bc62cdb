import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { compareFingerprints, schemaFingerprint } from '../../src/validate/fingerprint.js';
import { compareRowCounts, rowCounts } from '../../src/validate/rowcounts.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { freshDatabase, local, query, remote } from '../support/db.js';

const FIXTURE = path.join(PROJECT_ROOT, 'fixtures/app/db');
const fixtureSql = ['0_schema/010_extensions.sql', '0_schema/020_tables.sql', '0_schema/030_functions.sql', '1_seed_common/010_products.sql']
  .map((file) => readFileSync(path.join(FIXTURE, file), 'utf8'))
  .join('\n');

async function withDb<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const EXTRA = `
  CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
  CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
  CREATE VIEW app.big_spenders AS SELECT id FROM app.customer WHERE app.order_total(id) > 100;
  CREATE INDEX purchase_customer_idx ON app.purchase (customer_id);
  CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.bought_at := now(); RETURN NEW; END $$;
  CREATE TRIGGER purchase_touch BEFORE UPDATE ON app.purchase FOR EACH ROW EXECUTE FUNCTION app.touch();
`;

describe('schema fingerprint and row counts', () => {
  it('is equal for the same schema and sees a changed column, index or function body', async () => {
    const a = await freshDatabase(local);
    const b = await freshDatabase(local);
    for (const db of [a, b]) await query(db.url, fixtureSql + EXTRA);
    const [fa, fb] = await Promise.all([withDb(a.url, schemaFingerprint), withDb(b.url, schemaFingerprint)]);
    expect(fa.hash).toBe(fb.hash);
    expect(fa.objects.some((line) => line.startsWith('column app.customer.email text not null'))).toBe(true);
    expect(fa.objects.some((line) => line.startsWith("type app.mood e ('sad','ok','happy')"))).toBe(true);

    await query(b.url, `ALTER TABLE app.customer ADD COLUMN phone text;
      DROP INDEX app.purchase_customer_idx;
      CREATE OR REPLACE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;`);
    const changed = await withDb(b.url, schemaFingerprint);
    expect(changed.hash).not.toBe(fa.hash);
    const diff = compareFingerprints(fa, changed);
    expect(diff.unexpected).toContain('column app.customer.phone text');
    expect(diff.missing.some((line) => line.includes('purchase_customer_idx'))).toBe(true);
    expect(diff.missing.some((line) => line.startsWith('function app.touch()'))).toBe(true);
  });

  it('survives pg_dump | pg_restore to another server with --no-owner', async () => {
    const source = await freshDatabase(local);
    await query(source.url, fixtureSql + EXTRA);
    const target = await freshDatabase(remote);
    const archive = execFileSync('pg_dump', ['-Fc', '--dbname', source.url], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', target.url], { input: archive });
    const [expected, actual] = await Promise.all([withDb(source.url, schemaFingerprint), withDb(target.url, schemaFingerprint)]);
    expect(compareFingerprints(expected, actual)).toEqual({ missing: [], unexpected: [] });
    const [countsA, countsB] = await Promise.all([withDb(source.url, rowCounts), withDb(target.url, rowCounts)]);
    expect(countsA['app.product']).toBe(3);
    expect(compareRowCounts(countsA, countsB)).toEqual([]);
  });

  it('reports row count differences per table', async () => {
    const db = await freshDatabase(local);
    await query(db.url, fixtureSql);
    const before = await withDb(db.url, rowCounts);
    await query(db.url, `DELETE FROM app.product WHERE sku = 'SKU-003'`);
    const after = await withDb(db.url, rowCounts);
    expect(compareRowCounts(before, after)).toEqual([{ table: 'app.product', expected: 3, actual: 2 }]);
  });
});
