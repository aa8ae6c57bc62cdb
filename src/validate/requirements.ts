import type pg from 'pg';

/** What restoring a database elsewhere needs: roles that own or are granted objects, and extensions. */
export interface DatabaseRequirements {
  owners: string[];
  grantees: string[];
  extensions: string[];
}

const SYSTEM_SCHEMAS = `('pg_catalog', 'information_schema', 'dbfast')`;

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
  const extensions = await client.query<{ extname: string }>(
    `SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1`,
  );
  return {
    owners: owners.rows.map((row) => row.role),
    grantees: grantees.rows.map((row) => row.role),
    extensions: extensions.rows.map((row) => row.extname),
  };
}

export interface RequirementProblem {
  kind: 'role' | 'owner' | 'extension';
  name: string;
  reason: string;
}

export interface RequirementOptions {
  noOwner: boolean;
  noPrivileges: boolean;
}

/** Checks on the remote (any database there) that the requirements can be met by the connecting user. */
export async function missingRequirements(
  remote: pg.Client,
  needs: DatabaseRequirements,
  options: RequirementOptions,
): Promise<RequirementProblem[]> {
  const problems: RequirementProblem[] = [];
  const me = await remote.query<{ superuser: boolean }>('SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user');
  const superuser = me.rows[0]?.superuser === true;
  const roles = [...new Set([...(options.noOwner ? [] : needs.owners), ...(options.noPrivileges ? [] : needs.grantees)])];
  if (roles.length > 0) {
    const found = await remote.query<{ rolname: string; member: boolean }>(
      `SELECT rolname, pg_has_role(current_user, oid, 'USAGE') AS member FROM pg_roles WHERE rolname = ANY($1)`,
      [roles],
    );
    const byName = new Map(found.rows.map((row) => [row.rolname, row.member]));
    for (const role of roles) {
      if (!byName.has(role)) {
        const owner = !options.noOwner && needs.owners.includes(role);
        problems.push({ kind: 'role', name: role, reason: `role "${role}" does not exist on the remote (${owner ? 'owns objects' : 'is granted privileges'} in the template)` });
      }
    }
    if (!options.noOwner && !superuser) {
      for (const role of needs.owners) {
        if (byName.get(role) === false) {
          problems.push({ kind: 'owner', name: role, reason: `the remote user may not create objects owned by "${role}" (not a member of it)` });
        }
      }
    }
  }
  if (needs.extensions.length > 0) {
    const available = await remote.query<{ name: string; trusted: boolean }>(
      `SELECT e.name, coalesce(v.trusted, false) AS trusted
         FROM pg_available_extensions e
         LEFT JOIN pg_available_extension_versions v ON v.name = e.name AND v.version = e.default_version
        WHERE e.name = ANY($1)`,
      [needs.extensions],
    );
    const byName = new Map(available.rows.map((row) => [row.name, row.trusted]));
    for (const extension of needs.extensions) {
      if (!byName.has(extension)) {
        problems.push({ kind: 'extension', name: extension, reason: `extension "${extension}" is not installed on the remote server (not in pg_available_extensions)` });
      } else if (!superuser && byName.get(extension) === false) {
        problems.push({ kind: 'extension', name: extension, reason: `extension "${extension}" is not trusted: only a superuser can create it` });
      }
    }
  }
  return problems;
}
