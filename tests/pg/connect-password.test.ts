import { describe, expect, it } from 'vitest';
import { withClient } from '../../src/pg/client.js';
import { targetFromUrl } from '../../src/pg/target.js';
import { createRemoteAccount } from '../support/backup.js';

// src/pg fix: node-postgres let the URL's empty password override the one given apart
// (password_env), so scram logins with a password kept out of the URL always failed.
describe('connect with a password kept out of the URL', () => {
  it('logs in with scram when the password comes from password_env', async () => {
    const account = await createRemoteAccount({ createdb: false, prefix: 'bkpw' });
    const target = targetFromUrl(account.url, account.password);
    expect(target.url).not.toContain(account.password);
    const user = await withClient(target, async (client) => (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]?.u);
    expect(user).toBe(account.role);
  });

  it('still refuses a wrong password', async () => {
    const account = await createRemoteAccount({ createdb: false, prefix: 'bkpw' });
    await expect(withClient(targetFromUrl(account.url, 'wrong'), async () => 1)).rejects.toThrow(/password authentication failed/);
  });
});
