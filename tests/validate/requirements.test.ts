import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { databaseRequirements, readRemoteSupport, requirementChecks } from '../../src/validate/requirements.js';
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

const policy = { remote: 'r', keepOwners: true, keepPrivileges: true };

describe('template requirements', () => {
  it('lists owners, grantees, default-privilege roles and extensions, and finds what the remote lacks', async () => {
    const reporting = uniqueName('reporting');
    const db = await freshDatabase(local);
    await query(local.adminUrl, `CREATE ROLE "${reporting}"`);
    try {
      await query(db.url, `CREATE EXTENSION IF NOT EXISTS pgcrypto; CREATE TABLE t (id int);
        GRANT SELECT ON t TO "${reporting}"; ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO "${reporting}"`);
      const needs = await withClient(db.url, databaseRequirements);
      expect(needs).toEqual({ owners: ['postgres'], grantees: [reporting], defaultAclRoles: ['postgres'], extensions: ['pgcrypto'] });

      const support = await withClient(remote.adminUrl, (client) => readRemoteSupport(client, needs));
      expect(support).toMatchObject({ user: 'postgres', superuser: true, extensions: [{ name: 'pgcrypto', trusted: true }] });
      expect(support.roles).toEqual([
        { name: 'postgres', exists: true, usable: true, superuser: true },
        { name: reporting, exists: false, usable: false, superuser: false },
      ]);
      const checks = requirementChecks(needs, support, policy);
      expect(checks.map((c) => [c.name, c.ok])).toEqual([['owners', true], ['roles', false], ['extensions', true]]);
      expect(checks[1]?.detail).toContain(reporting);
      expect(requirementChecks(needs, support, { ...policy, keepPrivileges: false }).every((c) => c.ok)).toBe(true);

      const unknown = await withClient(remote.adminUrl, (client) => readRemoteSupport(client, { ...needs, extensions: ['no_such_extension_x'] }));
      expect(requirementChecks({ ...needs, extensions: ['no_such_extension_x'] }, unknown, policy)[2]?.detail).toMatch(/not installed on the remote/);
    } finally {
      await query(db.url, `ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM "${reporting}"; DROP TABLE IF EXISTS t`);
      await query(local.adminUrl, `DROP ROLE "${reporting}"`);
    }
  });

  it('sees, as an ordinary role, that it may not act as the template owner (a superuser)', async () => {
    const user = uniqueName('app');
    await query(remote.adminUrl, `CREATE ROLE "${user}" LOGIN`);
    try {
      const asUser = new URL(remote.adminUrl);
      asUser.username = user;
      const needs = { owners: ['postgres'], grantees: [], defaultAclRoles: [], extensions: [] };
      const support = await withClient(asUser.toString(), (client) => readRemoteSupport(client, needs));
      expect(support).toEqual({ user, superuser: false, roles: [{ name: 'postgres', exists: true, usable: false, superuser: true }], extensions: [] });
    } finally {
      await query(remote.adminUrl, `DROP ROLE "${user}"`);
    }
  });
});
