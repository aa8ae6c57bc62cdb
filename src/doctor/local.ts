import { resolveExternalConnection } from '../config/targets.js';
import type { DbfastConfig } from '../config/types.js';
import { ofThisProject, readDbfastDatabases } from '../local/list.js';
import { projectOwner } from '../local/owner.js';
import { findStaleSpares } from '../local/prepare.js';
import { buildLockKey } from '../local/names.js';
import { status } from '../local/status.js';
import { withClient } from '../pg/client.js';
import { advisoryUnlock, tryAdvisoryLock } from '../pg/lock.js';
import { quoteIdent } from '../pg/quote.js';
import { maskUrl, type DbTarget } from '../pg/target.js';
import { dumpCompatibilityProblem, serverMajor, toolInfo, type PgTool, type ToolInfo } from '../pg/tools.js';
import { managedServerTarget } from '../server/managed.js';
import { serverStatus } from '../server/status.js';
import { checkConnectivity } from '../validate/connectivity.js';
import { plural, type Diagnosis } from './types.js';

/** The local server as far as the other local checks need it; undefined when it cannot be used. */
export interface LocalServer {
  target: DbTarget;
  serverVersionNum: number;
}

const SERVER = 'local server';

/**
 * The local server: reachable, its version, CREATEDB; for the managed one, its state first.
 * Never starts anything: a stopped managed server is reported, and its databases are not checked.
 */
export async function checkLocalServer(config: DbfastConfig, env: NodeJS.ProcessEnv, d: Diagnosis): Promise<LocalServer | undefined> {
  let target: DbTarget;
  let source = 'the managed server';
  if (config.database.server === 'managed') {
    const managed = await serverStatus({ env });
    if (!managed.exists || !managed.running || !managed.server) {
      const state = managed.exists ? `is stopped (data in ${managed.root})` : `is not set up yet (it would live in ${managed.root})`;
      d.ok(SERVER, `no local database is configured, so dbfast uses its managed server, which ${state}; the first command that needs it starts it`);
      d.skipped('local databases', 'the managed server is not running: run `dbfast server start` to check its databases and templates');
      return undefined;
    }
    if (managed.pgDump && !managed.pgDump.canDump) {
      d.found('tools', managed.pgDump.path ? 'TOOL_TOO_OLD' : 'TOOL_MISSING', managed.pgDump.problem ?? 'pg_dump cannot dump the managed server', `Install pg_dump ${managed.server.major} or newer and set [tools] pg_bin_dir to its folder.`);
    }
    target = await managedServerTarget(env);
  } else {
    const external = resolveExternalConnection(config, env);
    target = external.target;
    source = external.source;
  }
  const { check, facts } = await checkConnectivity(target, { pings: 1 });
  if (!facts) {
    d.found(SERVER, 'CONNECTION_FAILED', `cannot connect to the local server ${maskUrl(target.url)} (from ${source}): ${check.detail}`, check.hint ?? 'Start the server, or fix [database] in dbfast.toml.');
    return undefined;
  }
  d.ok(SERVER, `PostgreSQL ${facts.serverVersion} at ${maskUrl(target.url)} (${config.database.server === 'managed' ? 'the managed server' : `from ${source}`}), as ${facts.currentUser}`);
  if (!facts.canCreateDatabases) {
    d.found(SERVER, 'LOCAL_NO_CREATEDB', `${facts.currentUser} may not create databases on the local server: templates and clones cannot be made`, `As a superuser: ALTER ROLE ${quoteIdent(facts.currentUser)} CREATEDB;`);
  }
  return { target, serverVersionNum: facts.serverVersionNum };
}

/** pg_dump, pg_restore and psql: found, their versions, and new enough to dump the local server's templates. */
export async function checkLocalTools(config: DbfastConfig, local: LocalServer | undefined, d: Diagnosis): Promise<void> {
  const tools: PgTool[] = ['pg_dump', 'pg_restore', 'psql'];
  const found: ToolInfo[] = [];
  for (const tool of tools) {
    try {
      found.push(await toolInfo(tool, config.tools.pgBinDir));
    } catch (error) {
      const { code, message, hint } = error as { code?: string; message: string; hint?: string };
      if (code !== 'TOOL_MISSING' && code !== 'TOOL_VERSION') throw error;
      // psql is needed only by the psql runner; pg_dump and pg_restore by deploys and backups (so once there are remotes).
      const needed = tool === 'psql' ? config.repository.runner === 'psql' : Object.keys(config.remotes).length > 0;
      d.found('tools', 'TOOL_MISSING', message, hint, needed ? 'problem' : 'warning');
    }
  }
  if (local) {
    for (const info of found.filter((tool) => tool.tool !== 'psql')) {
      const problem = dumpCompatibilityProblem(info, local.serverVersionNum);
      if (problem) d.found('tools', 'TOOL_TOO_OLD', `${problem} (the local server, whose templates deploys dump)`);
    }
  }
  const where = config.tools.pgBinDir ? `in ${config.tools.pgBinDir} ([tools] pg_bin_dir)` : 'on PATH';
  const against = local ? `; the local server is PostgreSQL ${serverMajor(local.serverVersionNum)}` : '';
  if (found.length > 0) d.ok('tools', `${found.map((info) => `${info.tool} ${info.version}`).join(', ')} ${where}${against}`);
}

/** Leftover side/old databases of interrupted builds, clones whose template is gone, and spares the rule no longer wants. */
export async function checkLocalDatabases(config: DbfastConfig, local: LocalServer, d: Diagnosis): Promise<void> {
  const owner = projectOwner(config);
  await withClient(local.target, async (client) => {
    const databases = await readDbfastDatabases(client, config);
    // By the project each marker records, never by name: another project may use the same template_name.
    const ours = databases.filter((db) => ofThisProject(db, owner));
    const templates = new Set(databases.filter((db) => db.kind === 'template').map((db) => db.name));
    let problems = 0;
    for (const db of ours) {
      if (db.kind === 'leftover' && db.template) {
        // A build in progress holds its template's lock: its side database is not a leftover.
        const free = await tryAdvisoryLock(client, buildLockKey(db.template));
        if (!free) continue;
        await advisoryUnlock(client, buildLockKey(db.template));
        problems++;
        d.found('local databases', 'LEFTOVER_DATABASE', `"${db.name}" is left over from an interrupted build of ${db.template}${db.sizeBytes === null ? '' : ` (${db.sizeBytes} bytes)`}`, `dbfast drop ${db.name} (the next build of ${db.template} drops it too)`);
      } else if (db.kind === 'clone' && db.template && !templates.has(db.template)) {
        problems++;
        d.found('local databases', 'STRAY_CLONE', `clone "${db.name}" was made from template ${db.template}, which no longer exists`, `dbfast drop ${db.name} if nothing uses it; or seed a fresh one with dbfast seed --output NAME`, 'warning');
      }
    }
    for (const spare of await findStaleSpares(client, config)) {
      problems++;
      const size = databases.find((db) => db.name === spare.name)?.sizeBytes;
      d.found('local databases', 'STALE_SPARE', `spare "${spare.name}" is ${spare.reason}${size === null || size === undefined ? '' : ` (${size} bytes)`}`, undefined, 'warning');
    }
    if (problems === 0) {
      const count = (kind: string): number => ours.filter((db) => db.kind === kind).length;
      d.ok('local databases', `${plural(count('template'), 'template')} and ${plural(count('clone'), 'clone')} of this project; no leftovers, no stray clones`);
    }
  }, { applicationName: 'dbfast doctor' });
}

/** Each environment's template against the files: stale ones, and names that cannot be built. */
export async function checkTemplates(config: DbfastConfig, d: Diagnosis): Promise<void> {
  // Read only: status would otherwise have the leftovers just reported dropped behind the user's back.
  const result = await status({ config, readOnly: true });
  for (const entry of result.environments) {
    if (entry.problem) {
      const foreign = entry.problem.includes('not made by dbfast');
      d.found(
        'templates',
        foreign ? 'TEMPLATE_NAME_TAKEN' : 'PRODUCTION_GUARD',
        `environment ${entry.environment}: ${entry.problem}`,
        foreign
          ? `Rename or drop database "${entry.template}" with your usual tools, or give this project another [database] template_name.`
          : `Keep seed and test data out of environment ${entry.environment} (exclude_directories / exclude_files in [environments.${entry.environment}]); see dbfast validate-env.`,
      );
    } else if (entry.state === 'stale') {
      const changed = [...entry.added.map((f) => `+${f}`), ...entry.removed.map((f) => `-${f}`), ...entry.modified.map((f) => `~${f}`)];
      const what = changed.length > 0 ? `${changed.slice(0, 3).join(', ')}${changed.length > 3 ? ` and ${changed.length - 3} more` : ''}` : 'its filters changed';
      d.found('templates', 'TEMPLATE_STALE', `template ${entry.template} (environment ${entry.environment}) is stale: ${what}`, `dbfast build --env ${entry.environment}`);
    } else {
      d.ok('templates', `${entry.template} (environment ${entry.environment}): ${entry.state === 'fresh' ? 'fresh' : 'not built yet (seed builds it)'}`);
    }
  }
}
