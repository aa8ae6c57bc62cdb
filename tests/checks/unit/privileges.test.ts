import { describe, expect, it } from 'vitest';
import { checkPrivileges } from '../../../src/validate/privileges.js';
import type { ServerFacts } from '../../../src/validate/types.js';

const base: ServerFacts = {
  serverVersion: '15.18', serverVersionNum: 150018, currentUser: 'app', superuser: false, canCreateDatabases: true,
  database: 'shop', connectedDatabase: 'shop', databaseExists: true, databaseIsTemplate: false, databaseOwner: 'app', ownsDatabase: true,
  ssl: { mode: 'prefer', source: 'default', unixSocket: false, encrypted: false, protocol: null }, latencyMs: 1, latencySamples: 1,
};

describe('checkPrivileges', () => {
  it.each([
    ['owner with CREATEDB', {}, [['database', true], ['owner', true], ['createdb', true]]],
    ['no CREATEDB: works in place (warning)', { canCreateDatabases: false }, [['database', true], ['owner', true], ['createdb', false]]],
    ['not the owner (warning)', { ownsDatabase: false, databaseOwner: 'someone' }, [['database', true], ['owner', false], ['createdb', true]]],
    ['missing, may create it', { databaseExists: false, ownsDatabase: null, databaseOwner: null }, [['database', true], ['createdb', true]]],
    ['missing, may not create it', { databaseExists: false, ownsDatabase: null, databaseOwner: null, canCreateDatabases: false }, [['database', false], ['createdb', false]]],
    ['template1', { database: 'template1', databaseIsTemplate: true, databaseOwner: 'postgres' }, [['database', false], ['owner', true], ['createdb', true]]],
    ['postgres (maintenance database)', { database: 'postgres', databaseOwner: 'postgres' }, [['database', false], ['owner', true], ['createdb', true]]],
    ['a database marked as template', { database: 'shop_tpl', databaseIsTemplate: true }, [['database', false], ['owner', true], ['createdb', true]]],
  ] as const)('%s', (_name, over, expected) => {
    const checks = checkPrivileges({ ...base, ...over }, 'staging');
    expect(checks.map((c) => [c.name, c.ok])).toEqual(expected);
    const database = checks.find((c) => c.name === 'database');
    if (database && !database.ok) {
      expect(database.severity).toBe('error');
      expect(database.hint).toBeTruthy();
    }
  });

  it('a protected database names the config key to change', () => {
    const [database] = checkPrivileges({ ...base, database: 'template1', databaseIsTemplate: true }, 'staging');
    expect(database?.detail).toContain("template database of PostgreSQL's own");
    expect(database?.hint).toContain('remotes.staging.url');
  });
});
