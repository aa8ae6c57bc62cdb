import { describe, expect, it } from 'vitest';
import type { RemoteConfig } from '../../src/config/types.js';
import { checkLiveName, MAX_LIVE_NAME_BYTES, swapNames } from '../../src/remote/names.js';
import { chooseReplaceMode, confirmationRequired, decideDeployPolicy, type DeployPolicyInput } from '../../src/remote/policy.js';

function remote(fields: Partial<RemoteConfig> = {}): RemoteConfig {
  return {
    name: 'staging',
    url: 'postgresql://app@db.example.com/shop',
    environment: 'staging',
    allowDestructive: true,
    backupBeforeDeploy: true,
    requireConfirmation: false,
    noOwner: false,
    templateOwners: false,
    noPrivileges: false,
    keepPrevious: true,
    validate: [],
    deploy: {},
    backup: {},
    ...fields,
  };
}

const base: Omit<DeployPolicyInput, 'remote'> = { confirmed: false, skipBackup: false, dryRun: false };

describe('decideDeployPolicy (pure: config and flags only)', () => {
  const cases: Array<{ name: string; input: DeployPolicyInput; policy?: { environment: string; mode: string; backup: boolean }; refused?: string }> = [
    { name: 'staging, defaults', input: { ...base, remote: remote() }, policy: { environment: 'staging', mode: 'replace', backup: true } },
    { name: '--skip-backup on staging', input: { ...base, remote: remote(), skipBackup: true }, policy: { environment: 'staging', mode: 'replace', backup: false } },
    { name: 'backup_before_deploy = false', input: { ...base, remote: remote({ backupBeforeDeploy: false }) }, policy: { environment: 'staging', mode: 'replace', backup: false } },
    { name: 'allow_destructive = false: migrate mode', input: { ...base, remote: remote({ allowDestructive: false }) }, policy: { environment: 'staging', mode: 'migrate', backup: true } },
    { name: '--mode migrate on a replaceable remote', input: { ...base, remote: remote(), mode: 'migrate' }, policy: { environment: 'staging', mode: 'migrate', backup: true } },
    { name: '--mode replace without allow_destructive', input: { ...base, remote: remote({ allowDestructive: false }), mode: 'replace' }, refused: 'DESTRUCTIVE_NOT_ALLOWED' },
    { name: '--env of another environment', input: { ...base, remote: remote(), environment: 'production' }, refused: 'ENVIRONMENT_MISMATCH' },
    { name: '--env of its own environment', input: { ...base, remote: remote(), environment: 'staging' }, policy: { environment: 'staging', mode: 'replace', backup: true } },
    { name: 'production without --confirm', input: { ...base, remote: remote({ name: 'production' }) }, refused: 'CONFIRMATION_REQUIRED' },
    { name: 'production environment without --confirm', input: { ...base, remote: remote({ name: 'live', environment: 'production' }) }, refused: 'CONFIRMATION_REQUIRED' },
    { name: 'production --dry-run needs no confirmation', input: { ...base, remote: remote({ name: 'production' }), dryRun: true }, policy: { environment: 'staging', mode: 'replace', backup: true } },
    { name: 'production confirmed: always backs up', input: { ...base, remote: remote({ name: 'production', backupBeforeDeploy: false }), confirmed: true }, policy: { environment: 'staging', mode: 'replace', backup: true } },
    { name: 'production --skip-backup', input: { ...base, remote: remote({ name: 'production' }), confirmed: true, skipBackup: true }, refused: 'BACKUP_REQUIRED' },
    { name: 'require_confirmation without --confirm', input: { ...base, remote: remote({ requireConfirmation: true }) }, refused: 'CONFIRMATION_REQUIRED' },
    { name: 'env mismatch is reported before confirmation', input: { ...base, remote: remote({ name: 'production' }), environment: 'local' }, refused: 'ENVIRONMENT_MISMATCH' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.refused) expect(() => decideDeployPolicy(c.input)).toThrow(expect.objectContaining({ code: c.refused, exitCode: 2 }));
      else expect(decideDeployPolicy(c.input)).toEqual(c.policy);
    });
  }
});

describe('confirmationRequired', () => {
  it.each([
    [remote(), false],
    [remote({ requireConfirmation: true }), true],
    [remote({ name: 'production' }), true],
    [remote({ environment: 'production' }), true],
  ])('%#', (r, expected) => expect(confirmationRequired(r)).toBe(expected));
});

describe('chooseReplaceMode', () => {
  it.each([
    [{ canCreateDatabases: true, superuser: false, databaseExists: true, ownsDatabase: true }, 'swap'],
    [{ canCreateDatabases: true, superuser: false, databaseExists: true, ownsDatabase: false }, 'in-place'],
    [{ canCreateDatabases: true, superuser: true, databaseExists: true, ownsDatabase: false }, 'swap'],
    [{ canCreateDatabases: true, superuser: false, databaseExists: false, ownsDatabase: null }, 'swap'],
    [{ canCreateDatabases: false, superuser: false, databaseExists: true, ownsDatabase: true }, 'in-place'],
    [{ canCreateDatabases: false, superuser: false, databaseExists: false, ownsDatabase: null }, undefined],
  ])('%o -> %s', (facts, mode) => expect(chooseReplaceMode(facts)).toBe(mode));
});

describe('names derived from the live database', () => {
  it('accepts 47 bytes, refuses 48 (counting bytes, not characters), derives every side name', () => {
    expect(MAX_LIVE_NAME_BYTES).toBe(47);
    expect(() => checkLiveName('x'.repeat(47))).not.toThrow();
    expect(() => checkLiveName('x'.repeat(48))).toThrow(expect.objectContaining({ code: 'NAME_TOO_LONG' }));
    expect(() => checkLiveName('é'.repeat(24))).toThrow(/48 bytes/);
    expect(swapNames('shop', 'deploy')).toEqual({ live: 'shop', side: 'shop__dbfast_new', previous: 'shop__dbfast_prev', sides: ['shop__dbfast_new', 'shop__dbfast_restore'] });
    expect(swapNames('shop').side).toBe('shop__dbfast_restore');
  });
});
