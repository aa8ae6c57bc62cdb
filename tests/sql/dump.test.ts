import { describe, expect, inject, it } from 'vitest';
import { runFiles } from '../../src/sql/index.js';
import { query } from '../support/db.js';
import { failure, fixture, freshTarget } from '../support/sql.js';

const pgBinDir = inject('pgBinDir') || undefined;

async function expectShop(url: string): Promise<void> {
  expect(await query(url, 'SELECT id, name, price::text, updated_at IS NULL AS no_time FROM shop.product ORDER BY id')).toEqual([
    { id: 1, name: 'Kaffee ☕', price: '3.50', no_time: true },
    { id: 2, name: 'Tee', price: '2.00', no_time: false },
  ]);
  expect(await query(url, "SELECT nextval('shop.product_id_seq')::int AS next")).toEqual([{ next: 3 }]);
}

describe('plain pg_dump output', () => {
  it('runs in-process: SET lines, set_config, COPY, and the \\restrict ... \\unrestrict guard of recent pg_dump', async () => {
    const { url, target } = await freshTarget();
    const result = await runFiles([fixture('dump/pg_dump_17.sql')], { target });
    expect(result.copyRows).toBe(2);
    await expectShop(url);
  });

  it('runs with the psql runner too', async () => {
    const { url, target } = await freshTarget();
    await runFiles([fixture('dump/pg_dump_17.sql')], { target, runner: 'psql', pgBinDir });
    await expectShop(url);
  });

  it('refuses a meta-command smuggled between \\restrict and \\unrestrict', async () => {
    const { url, target } = await freshTarget();
    const error = await failure(runFiles([fixture('dump/restricted_smuggle.sql')], { target }));
    expect(error.code).toBe('SQL_META_COMMAND');
    expect(error.message).toBe('dump/restricted_smuggle.sql:26: psql meta-command \\! after \\restrict: only \\unrestrict is allowed there');
    expect(await query(url, "SELECT to_regnamespace('shop') AS s")).toEqual([{ s: null }]);
  });
});
