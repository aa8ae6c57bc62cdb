import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { compareFingerprints, schemaFingerprint } from '../../src/validate/fingerprint.js';
import { parseJson } from '../support/cli.js';
import { freshDatabase, local, query } from '../support/db.js';
import { cli, createRemoteAccount } from '../support/backup.js';
import { writeDeployProject } from '../support/deploy.js';

async function fingerprintWith(url: string, settings: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (settings) await client.query(settings);
    return await schemaFingerprint(client);
  } finally {
    await client.end();
  }
}

const SCHEMA = `
  CREATE SCHEMA shop;
  CREATE TYPE shop.mood AS ENUM ('sad', 'happy');
  CREATE TABLE shop.customer (id int PRIMARY KEY, mood shop.mood DEFAULT 'happy', born date DEFAULT '2020-01-31',
    seen timestamptz DEFAULT '2020-01-31 12:00:00+00', wait interval DEFAULT '1 day 02:00:00', ratio float8 DEFAULT 0.1,
    blob bytea DEFAULT '\\x00ff', "Mixed" text);
  CREATE TABLE shop.purchase (id int PRIMARY KEY, customer_id int REFERENCES shop.customer (id) CHECK (customer_id > 0));
  CREATE INDEX purchase_customer ON shop.purchase (customer_id);
  CREATE FUNCTION shop.greet(c shop.customer) RETURNS text LANGUAGE sql AS $$ SELECT 'hi' $$;
  CREATE VIEW shop.happy AS SELECT id FROM shop.customer WHERE mood = 'happy';
`;

describe('schema fingerprints do not depend on session settings', () => {
  it.each([
    ['search_path naming the schema (a role named like it: "$user")', 'SET search_path = shop, public'],
    ['an empty search_path', "SELECT set_config('search_path', '', false)"],
    ['DateStyle', "SET DateStyle = 'German, DMY'"],
    ['TimeZone', "SET TimeZone = 'Pacific/Kiritimati'"],
    ['IntervalStyle', "SET IntervalStyle = 'sql_standard'"],
    ['extra_float_digits', 'SET extra_float_digits = 3'],
    ['bytea_output', "SET bytea_output = 'escape'"],
    ['quote_all_identifiers', 'SET quote_all_identifiers = on'],
  ])('%s', async (_name, settings) => {
    const db = await freshDatabase(local);
    await query(db.url, SCHEMA);
    const plain = await fingerprintWith(db.url, '');
    const other = await fingerprintWith(db.url, settings);
    expect(compareFingerprints(plain, other)).toEqual({ missing: [], unexpected: [] });
    expect(other.hash).toBe(plain.hash);
  });

  it('leaves the session settings as they were', async () => {
    const db = await freshDatabase(local);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query("SET search_path = public; SET DateStyle = 'German, DMY'");
      await schemaFingerprint(client);
      const rows = await client.query<{ sp: string; ds: string }>("SELECT current_setting('search_path') AS sp, current_setting('DateStyle') AS ds");
      expect(rows.rows[0]).toEqual({ sp: 'public', ds: 'German, DMY' });
    } finally {
      await client.end();
    }
  });
});

describe('a remote role named like a schema of the template', () => {
  it('deploys, and migrate verify finds no difference', async () => {
    const account = await createRemoteAccount({ createdb: true, prefix: 'sch' });
    const s = `"${account.role}"`;
    const project = writeDeployProject([{ name: 'staging', account }], {
      extraSql: `CREATE SCHEMA ${s}; CREATE TABLE ${s}.parent (id int PRIMARY KEY);
        CREATE TABLE ${s}.child (parent_id int REFERENCES ${s}.parent (id));
        CREATE VIEW ${s}.children AS SELECT parent_id FROM ${s}.child JOIN ${s}.parent ON parent.id = child.parent_id;`,
    });
    const deployed = await cli(project, ['--json', 'deploy', 'staging']);
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    const verify = await cli(project, ['--json', 'migrate', 'verify', '--remote', 'staging']);
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(parseJson<{ matches: boolean }>(verify).matches).toBe(true);
  });
});
