import { afterAll, describe, expect, it } from 'vitest';
import { checkSettingsAllowed } from '../../src/pg/db-properties.js';
import { withClient } from '../../src/pg/client.js';
import { targetFromUrl } from '../../src/pg/target.js';
import { freshDatabase, local, query, uniqueName } from '../support/db.js';
import { failure } from '../support/sql.js';

const roles: string[] = [];
afterAll(async () => {
  for (const role of roles) await query(local.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
});

describe('giving a database the template settings as a role that does not own it', () => {
  it('says to make the role the owner (or deploy as the owner), not to GRANT SET ON PARAMETER', async () => {
    const { name, url } = await freshDatabase(local, 'setown');
    const role = uniqueName('notowner');
    roles.push(role);
    await query(local.adminUrl, `CREATE ROLE "${role}" LOGIN`);
    const asRole = new URL(url);
    asRole.username = role;
    const error = await failure(
      withClient(targetFromUrl(asRole.toString()), (client) => checkSettingsAllowed(client, name, [{ role: null, name: 'request.jwt.claim.id', value: '-1' }])),
    );
    expect(error.code).toBe('SETTING_NOT_APPLIED');
    expect(error.message).toContain(`could not give database "${name}" the setting request.jwt.claim.id = -1: must be owner of database ${name}`);
    expect(error.hint).toContain(`ALTER DATABASE ${name} OWNER TO "${role}"`);
    expect(error.hint).not.toContain('GRANT SET ON PARAMETER');
  });
});
