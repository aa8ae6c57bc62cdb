import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseRequirements, missingRequirements } from '../../src/validate/requirements.js';
import { freshDatabase, local, query, remote, uniqueName } from '../support/db.js';

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('template requirements', () => {
  it('lists owners, grantees and extensions, and reports what the remote lacks', async () => {
    const reporting = uniqueName('reporting');
    const db = await freshDatabase(local);
    await query(local.adminUrl, `CREATE ROLE "${reporting}"`);
    try {
      await query(db.url, `CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE t (id int);
        GRANT SELECT ON t TO "${reporting}"`);
      const needs = await withClient(db.url, databaseRequirements);
      expect(needs).toEqual({ owners: ['postgres'], grantees: [reporting], extensions: ['pgcrypto'] });

      const problems = await withClient(remote.adminUrl, (client) => missingRequirements(client, needs, { noOwner: false, noPrivileges: false }));
      expect(problems).toEqual([{ kind: 'role', name: reporting, reason: expect.stringContaining('does not exist on the remote') }]);
      const without = await withClient(remote.adminUrl, (client) => missingRequirements(client, needs, { noOwner: false, noPrivileges: true }));
      expect(without).toEqual([]);
      const unknownExtension = await withClient(remote.adminUrl, (client) =>
        missingRequirements(client, { owners: [], grantees: [], extensions: ['no_such_extension_x'] }, { noOwner: false, noPrivileges: false }),
      );
      expect(unknownExtension[0]?.reason).toMatch(/not installed on the remote/);
    } finally {
      await query(db.url, `DROP TABLE IF EXISTS t`);
      await query(local.adminUrl, `DROP ROLE "${reporting}"`);
    }
  });

  it('says when a non-superuser cannot own objects as the template owner', async () => {
    const user = uniqueName('app');
    await query(remote.adminUrl, `CREATE ROLE "${user}" LOGIN`);
    try {
      const asUser = new URL(remote.adminUrl);
      asUser.username = user;
      const problems = await withClient(asUser.toString(), (client) =>
        missingRequirements(client, { owners: ['postgres'], grantees: [], extensions: [] }, { noOwner: false, noPrivileges: false }),
      );
      expect(problems).toEqual([{ kind: 'owner', name: 'postgres', reason: expect.stringContaining('not a member') }]);
      const noOwner = await withClient(asUser.toString(), (client) =>
        missingRequirements(client, { owners: ['postgres'], grantees: [], extensions: [] }, { noOwner: true, noPrivileges: false }),
      );
      expect(noOwner).toEqual([]);
    } finally {
      await query(remote.adminUrl, `DROP ROLE "${user}"`);
    }
  });
});
