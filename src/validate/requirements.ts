import type pg from 'pg';
import { quoteIdent } from '../pg/quote.js';
import { failed, passed, type CheckResult } from './types.js';

/** What restoring a database elsewhere needs: roles that own or are granted objects, and extensions. */
export interface DatabaseRequirements {
  owners: string[];
  grantees: string[];
  /** Roles named by ALTER DEFAULT PRIVILEGES FOR ROLE: restoring those needs membership in them. */
  defaultAclRoles: string[];
  extensions: string[];
}

const SYSTEM_SCHEMAS = `('pg_catalog', 'information_schema', 'dbfast')`;

/** Reads what a database (a template's scratch clone) needs from the server it is restored on. */
export async function databaseRequirements(client: pg.Client): Promise<DatabaseRequirements> {
  const owners = await client.query<{ role: string }>(`
    SELECT DISTINCT pg_get_userbyid(owner) AS role FROM (
      SELECT c.relowner AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
      UNION SELECT n.nspowner FROM pg_namespace n
       WHERE n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'public'
      UNION SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
      UNION SELECT t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
    ) o ORDER BY 1`);
  // The owner's own entry and built-in roles (oid < 16384, e.g. pg_database_owner) exist everywhere.
  const grantees = await client.query<{ role: string }>(`
    SELECT DISTINCT pg_get_userbyid(a.grantee) AS role FROM (
      SELECT (aclexplode(c.relacl)).grantee, c.relowner AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relacl IS NOT NULL AND n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
      UNION SELECT (aclexplode(n.nspacl)).grantee, n.nspowner FROM pg_namespace n
       WHERE n.nspacl IS NOT NULL AND n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
      UNION SELECT (aclexplode(p.proacl)).grantee, p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE p.proacl IS NOT NULL AND n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
      UNION SELECT (aclexplode(t.typacl)).grantee, t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE t.typacl IS NOT NULL AND n.nspname NOT IN ${SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
      UNION SELECT (aclexplode(d.defaclacl)).grantee, d.defaclrole FROM pg_default_acl d
    ) a WHERE a.grantee >= 16384 AND a.grantee <> a.owner ORDER BY 1`);
  const defaultAcl = await client.query<{ role: string }>(
    `SELECT DISTINCT pg_get_userbyid(defaclrole) AS role FROM pg_default_acl ORDER BY 1`,
  );
  const extensions = await client.query<{ extname: string }>(
    `SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`,
  );
  return {
    owners: owners.rows.map((row) => row.role),
    grantees: grantees.rows.map((row) => row.role),
    defaultAclRoles: defaultAcl.rows.map((row) => row.role),
    extensions: extensions.rows.map((row) => row.extname),
  };
}

/** One role of the requirements, as the remote sees it. */
export interface RemoteRole {
  name: string;
  exists: boolean;
  /** The connecting role may act as it (pg_has_role USAGE): create objects it owns. */
  usable: boolean;
  superuser: boolean;
}

/** What the remote offers towards the requirements: read by `readRemoteSupport`, judged by `requirementChecks`. */
export interface RemoteSupport {
  user: string;
  superuser: boolean;
  roles: RemoteRole[];
  /** Extensions of the requirements found in pg_available_extensions, with their trusted flag. */
  extensions: Array<{ name: string; trusted: boolean }>;
}

/** Looks up, on the remote (any database there), the roles and extensions the requirements name. */
export async function readRemoteSupport(client: pg.Client, needs: DatabaseRequirements): Promise<RemoteSupport> {
  const me = (await client.query<{ user: string; superuser: boolean }>('SELECT current_user AS "user", rolsuper AS superuser FROM pg_roles WHERE rolname = current_user')).rows[0];
  const names = [...new Set([...needs.owners, ...needs.grantees, ...needs.defaultAclRoles])];
  const found = await client.query<{ rolname: string; usable: boolean; superuser: boolean }>(
    `SELECT rolname, pg_has_role(current_user, oid, 'USAGE') AS usable, rolsuper AS superuser FROM pg_roles WHERE rolname = ANY($1)`,
    [names],
  );
  const byName = new Map(found.rows.map((row) => [row.rolname, row]));
  const available = await client.query<{ name: string; trusted: boolean }>(
    `SELECT e.name, coalesce(v.trusted, false) AS trusted
       FROM pg_available_extensions e
       LEFT JOIN pg_available_extension_versions v ON v.name = e.name AND v.version = e.default_version
      WHERE e.name = ANY($1)`,
    [needs.extensions],
  );
  return {
    user: me?.user ?? '',
    superuser: me?.superuser === true,
    roles: names.map((name) => {
      const row = byName.get(name);
      return { name, exists: row !== undefined, usable: row?.usable === true, superuser: row?.superuser === true };
    }),
    extensions: available.rows,
  };
}

/** How a deploy restores the template: with its owners and grants, or without. */
export interface RestorePolicy {
  /** Remote name, for the config keys in hints. */
  remote: string;
  /** Objects keep the template's owners (no_owner = false set explicitly); else they belong to the deploying role. */
  keepOwners: boolean;
  /** Grants are restored (no_privileges not set). */
  keepPrivileges: boolean;
}

const list = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(', ');

function ownersCheck(needs: DatabaseRequirements, support: RemoteSupport, policy: RestorePolicy): CheckResult {
  const { user } = support;
  const key = `[remotes.${policy.remote}]`;
  if (!policy.keepOwners) {
    const of = needs.owners.length > 0 ? ` (the template's owners ${list(needs.owners)} are local roles and are not restored)` : '';
    return passed('owners', `objects will be owned by ${user}, the deploying role${of}; set no_owner = false under ${key} to keep the template's owners`);
  }
  if (needs.owners.length === 0 || support.superuser) {
    return passed('owners', needs.owners.length === 0 ? 'the template owns nothing outside its schemas' : `objects keep their owners (${list(needs.owners)}): ${user} is a superuser`);
  }
  const roles = new Map(support.roles.map((role) => [role.name, role]));
  const missing = needs.owners.filter((name) => roles.get(name)?.exists !== true);
  const superusers = needs.owners.filter((name) => roles.get(name)?.superuser === true && roles.get(name)?.usable !== true);
  const grantable = needs.owners.filter((name) => roles.get(name)?.exists === true && roles.get(name)?.superuser !== true && roles.get(name)?.usable !== true);
  if (missing.length === 0 && superusers.length === 0 && grantable.length === 0) {
    return passed('owners', `objects keep the template's owners (${list(needs.owners)}); ${user} may create objects owned by them`);
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  if (missing.length > 0) {
    problems.push(`${list(missing)} own${missing.length === 1 ? 's' : ''} objects in the template and do${missing.length === 1 ? 'es' : ''} not exist on the remote`);
    fixes.push(`create ${missing.length === 1 ? 'that role' : 'those roles'} on the remote`);
  }
  if (grantable.length > 0) {
    problems.push(`${user} may not create objects owned by ${list(grantable)} (not a member)`);
    fixes.push(`as a superuser on the remote: ${grantable.map((name) => `GRANT ${quoteIdent(name)} TO ${quoteIdent(user)};`).join(' ')}`);
  }
  if (superusers.length > 0) {
    // Membership in a superuser role would make the deploying role a superuser: never suggest it.
    problems.push(`${user} may not create objects owned by ${list(superusers)}, a superuser role`);
    fixes.push(`let the SQL files give those objects to an ordinary role (ALTER ... OWNER TO); never make ${user} a member of a superuser role`);
  }
  return failed(
    'owners',
    `no_owner = false keeps the template's owners, but ${problems.join('; ')}`,
    `Remove no_owner = false from ${key} so the objects belong to ${user} (what pg_restore --no-owner does), or ${fixes.join('; or ')}.`,
  );
}

function rolesCheck(needs: DatabaseRequirements, support: RemoteSupport, policy: RestorePolicy): CheckResult {
  const key = `[remotes.${policy.remote}]`;
  if (!policy.keepPrivileges) return passed('roles', `grants are not restored (no_privileges under ${key})`);
  if (needs.grantees.length === 0 && needs.defaultAclRoles.length === 0) return passed('roles', 'the template grants nothing to other roles');
  const roles = new Map(support.roles.map((role) => [role.name, role]));
  const missing = needs.grantees.filter((name) => roles.get(name)?.exists !== true);
  const notMember = support.superuser ? [] : needs.defaultAclRoles.filter((name) => roles.get(name)?.usable !== true);
  if (missing.length === 0 && notMember.length === 0) {
    return passed('roles', `the roles the template grants privileges to exist: ${list([...new Set([...needs.grantees, ...needs.defaultAclRoles])])}`);
  }
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`the template grants privileges to ${list(missing)}, which ${missing.length === 1 ? 'does' : 'do'} not exist on the remote`);
  if (notMember.length > 0) problems.push(`it sets default privileges for ${list(notMember)}, which ${support.user} may not act as`);
  return failed(
    'roles',
    problems.join('; '),
    `Create the missing roles on the remote, or set no_privileges = true under ${key} so grants and default privileges are not restored.`,
  );
}

function extensionsCheck(needs: DatabaseRequirements, support: RemoteSupport): CheckResult {
  if (needs.extensions.length === 0) return passed('extensions', 'the template uses no extensions');
  const available = new Map(support.extensions.map((e) => [e.name, e.trusted]));
  const missing = needs.extensions.filter((name) => !available.has(name));
  const untrusted = support.superuser ? [] : needs.extensions.filter((name) => available.get(name) === false);
  if (missing.length === 0 && untrusted.length === 0) return passed('extensions', `available on the remote: ${needs.extensions.join(', ')}`);
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`not installed on the remote server (not in pg_available_extensions): ${missing.join(', ')}`);
  if (untrusted.length > 0) problems.push(`not trusted, so only a superuser can create ${untrusted.length === 1 ? 'it' : 'them'}: ${untrusted.join(', ')}`);
  return failed(
    'extensions',
    `the template uses extensions ${problems.join('; ')}`,
    missing.length > 0
      ? "Install the extension's package on the remote server (its contrib or vendor package)."
      : `A deploy creates the extensions in a new database, which only a superuser may do for untrusted ones: deploy as a superuser role, or leave ${untrusted.join(', ')} out of the SQL files.`,
  );
}

/** The template's needs against what the remote offers: one check each for owners, roles and extensions. */
export function requirementChecks(needs: DatabaseRequirements, support: RemoteSupport, policy: RestorePolicy): CheckResult[] {
  return [ownersCheck(needs, support, policy), rolesCheck(needs, support, policy), extensionsCheck(needs, support)];
}
