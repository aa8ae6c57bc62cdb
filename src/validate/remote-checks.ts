import type { RemoteConfig } from '../config/types.js';
import { protectedDatabaseReason } from '../pg/system-databases.js';
import type { DbTarget } from '../pg/target.js';
import { connectedCheck, openRemote, probeServer } from './connectivity.js';
import { checkPrivileges } from './privileges.js';
import { checkReadAccess } from './read-access.js';
import { checkSwapNames } from './swap-names.js';
import { readRemoteSupport, requirementChecks } from './requirements.js';
import type { TemplateNeeds } from './template.js';
import { checkTools, type ToolsResult } from './tools.js';
import { passed, type CheckResult, type ServerFacts } from './types.js';

export interface RemoteCheckInput {
  remote: RemoteConfig;
  /** The remote's resolved target (password included). */
  target: DbTarget;
  /** `[tools] pg_bin_dir`. */
  pgBinDir?: string | undefined;
  /** What the template needs; omitted: those checks are not run (a deploy runs them after its build). */
  template?: TemplateNeeds | undefined;
  /** Round trips of `SELECT 1` for the latency median (default 1). */
  pings?: number;
  connectTimeoutMs?: number;
  /**
   * The `side_names` check (default true). A deploy turns it off: it refuses such a database
   * itself (SIDE_NAME_TAKEN), and a migrate deploy of an existing database swaps nothing.
   */
  swapNames?: boolean | undefined;
}

export interface RemoteCheckResult {
  checks: CheckResult[];
  /** Present when the connection worked. */
  facts?: ServerFacts | undefined;
  tools: ToolsResult['tools'];
}

/**
 * THE checks of a remote, shared by `remote test`, `deploy --dry-run` and the deploy itself
 * (through `remotePreflight`), so what the first two call ready is what the last accepts:
 * connection, the target database (never one of PostgreSQL's own), ownership and CREATEDB,
 * read access to everything pg_dump reads in it (when it exists), pg_dump / pg_restore, and, given the template's needs, its owners, roles and extensions.
 * Reads only. A failed check is a result, never a throw.
 */
export async function checkRemote(input: RemoteCheckInput): Promise<RemoteCheckResult> {
  const { remote, target } = input;
  const opened = await openRemote(target, { pings: input.pings ?? 1, ...(input.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: input.connectTimeoutMs }) });
  const checks: CheckResult[] = [];
  let facts: ServerFacts | undefined;
  if (opened.client) {
    try {
      facts = await probeServer(opened.client, target, opened.database, input.pings ?? 1);
      checks.push(connectedCheck(target, opened.database, facts));
      checks.push(...checkPrivileges(facts, remote.name));
      // What pg_dump (every backup, and every deploy's backup) reads, in the live database itself.
      const live = facts.databaseExists && opened.database === facts.database && !protectedDatabaseReason(facts.database, facts.databaseIsTemplate);
      if (live) checks.push(await checkReadAccess(opened.client, facts));
      // Only a swap uses these names (a user without CREATEDB replaces in place).
      if (input.swapNames !== false && facts.canCreateDatabases) checks.push(await checkSwapNames(opened.client, facts.database));
      if (input.template) checks.push(...(await templateChecks(opened.client, input.template, remote, facts.currentUser)));
    } finally {
      await opened.client.end().catch(() => undefined);
    }
  } else {
    checks.push(opened.failure);
  }
  const tools = await checkTools(facts?.serverVersionNum, input.pgBinDir);
  // Tools after the database checks, template checks last: the order `remote test` prints.
  const templateNames = new Set(['template', 'owners', 'roles', 'extensions']);
  const ordered = [...checks.filter((c) => !templateNames.has(c.name)), ...tools.checks, ...checks.filter((c) => templateNames.has(c.name))];
  return { checks: ordered, facts, tools: tools.tools };
}

async function templateChecks(client: import('pg').Client, needs: TemplateNeeds, remote: RemoteConfig, user: string): Promise<CheckResult[]> {
  const policy = { remote: remote.name, keepOwners: remote.templateOwners, keepPrivileges: !remote.noPrivileges };
  if (!needs.requirements) {
    // What the owners will be does not depend on the template unless its owners are kept.
    const owners = policy.keepOwners || !needs.template ? [] : requirementChecks(NO_NEEDS, { user, superuser: false, roles: [], extensions: [] }, policy).slice(0, 1);
    return [passed('template', needs.unavailable), ...owners];
  }
  const support = await readRemoteSupport(client, needs.requirements);
  return [passed('template', `roles and extensions read from ${needs.source}`), ...requirementChecks(needs.requirements, support, policy)];
}

const NO_NEEDS = { owners: [], grantees: [], defaultAclRoles: [], extensions: [] };
