import { describe, expect, it } from 'vitest';
import { requirementChecks, type DatabaseRequirements, type RemoteRole, type RemoteSupport } from '../../../src/validate/requirements.js';

const none: DatabaseRequirements = { owners: [], grantees: [], defaultAclRoles: [], extensions: [] };
const role = (name: string, over: Partial<RemoteRole> = {}): RemoteRole => ({ name, exists: true, usable: false, superuser: false, ...over });
const deployer = (roles: RemoteRole[], over: Partial<RemoteSupport> = {}): RemoteSupport => ({ user: 'deployer', superuser: false, roles, extensions: [], ...over });
const keep = { remote: 'staging', keepOwners: true, keepPrivileges: true };
const byDefault = { remote: 'staging', keepOwners: false, keepPrivileges: true };

interface Case {
  name: string;
  needs: DatabaseRequirements;
  support: RemoteSupport;
  policy: typeof keep;
  /** [check name, ok] for owners, roles, extensions. */
  expected: Array<[string, boolean]>;
  detail?: RegExp;
  hint?: RegExp;
  notHint?: RegExp;
}

const cases: Case[] = [
  { name: 'default: template owners are not restored, whoever they are', needs: { ...none, owners: ['postgres'] }, support: deployer([role('postgres', { superuser: true })]), policy: byDefault,
    expected: [['owners', true], ['roles', true], ['extensions', true]], detail: /owned by deployer.*"postgres"/ },
  { name: 'kept owners, superuser owner role: never suggests membership in it', needs: { ...none, owners: ['postgres'] }, support: deployer([role('postgres', { superuser: true })]), policy: keep,
    expected: [['owners', false], ['roles', true], ['extensions', true]], detail: /"postgres", a superuser role/, hint: /Remove no_owner = false from \[remotes\.staging\]/, notHint: /GRANT "postgres"/ },
  { name: 'kept owners, ordinary role not granted: GRANT that role', needs: { ...none, owners: ['app_owner'] }, support: deployer([role('app_owner')]), policy: keep,
    expected: [['owners', false], ['roles', true], ['extensions', true]], hint: /GRANT "app_owner" TO "deployer";/ },
  { name: 'kept owners, role missing on the remote', needs: { ...none, owners: ['app_owner'] }, support: deployer([role('app_owner', { exists: false })]), policy: keep,
    expected: [['owners', false], ['roles', true], ['extensions', true]], detail: /"app_owner" owns objects in the template and does not exist/, hint: /create that role on the remote/ },
  { name: 'kept owners, member of the role', needs: { ...none, owners: ['app_owner'] }, support: deployer([role('app_owner', { usable: true })]), policy: keep,
    expected: [['owners', true], ['roles', true], ['extensions', true]] },
  { name: 'kept owners, deploying as a superuser', needs: { ...none, owners: ['postgres'] }, support: deployer([role('postgres', { superuser: true })], { superuser: true }), policy: keep,
    expected: [['owners', true], ['roles', true], ['extensions', true]] },
  { name: 'grantee missing', needs: { ...none, grantees: ['reporting'] }, support: deployer([role('reporting', { exists: false })]), policy: byDefault,
    expected: [['owners', true], ['roles', false], ['extensions', true]], detail: /"reporting", which does not exist/, hint: /no_privileges = true/ },
  { name: 'grantee missing, grants not restored', needs: { ...none, grantees: ['reporting'] }, support: deployer([role('reporting', { exists: false })]), policy: { ...byDefault, keepPrivileges: false },
    expected: [['owners', true], ['roles', true], ['extensions', true]] },
  { name: 'default privileges for a role the deployer cannot act as', needs: { ...none, defaultAclRoles: ['postgres'] }, support: deployer([role('postgres', { superuser: true })]), policy: byDefault,
    expected: [['owners', true], ['roles', false], ['extensions', true]], detail: /default privileges for "postgres"/ },
  { name: 'extension not installed', needs: { ...none, extensions: ['postgis'] }, support: deployer([]), policy: byDefault,
    expected: [['owners', true], ['roles', true], ['extensions', false]], detail: /not installed on the remote server.*postgis/ },
  { name: 'untrusted extension, not a superuser', needs: { ...none, extensions: ['postgres_fdw'] }, support: deployer([], { extensions: [{ name: 'postgres_fdw', trusted: false }] }), policy: byDefault,
    expected: [['owners', true], ['roles', true], ['extensions', false]], detail: /only a superuser/ },
  { name: 'trusted extension', needs: { ...none, extensions: ['pgcrypto'] }, support: deployer([], { extensions: [{ name: 'pgcrypto', trusted: true }] }), policy: byDefault,
    expected: [['owners', true], ['roles', true], ['extensions', true]] },
];

describe('requirementChecks', () => {
  it.each(cases)('$name', (c) => {
    const checks = requirementChecks(c.needs, c.support, c.policy);
    expect(checks.map((check) => [check.name, check.ok])).toEqual(c.expected);
    const failedCheck = checks.find((check) => !check.ok) ?? checks[0];
    if (c.detail) expect(failedCheck?.detail).toMatch(c.detail);
    if (c.hint) expect(failedCheck?.hint).toMatch(c.hint);
    if (c.notHint) expect(failedCheck?.hint ?? '').not.toMatch(c.notHint);
    for (const check of checks) if (!check.ok) expect(check.hint).toBeTruthy();
  });
});
