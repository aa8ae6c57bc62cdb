import type { DbfastConfig } from '../config/types.js';
import { findRemote, remoteTarget } from '../config/targets.js';
import { DbfastError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { clusterSetupFiles, localState } from '../local/cluster-setup.js';
import { connectMaintenance, rolePrivileges } from '../pg/admin.js';
import { maskUrl, withDatabase } from '../pg/target.js';
import { requireConfirmation } from '../remote/policy.js';
import { runClusterSetup } from '../sql/cluster-setup.js';
import { roleCommentState } from './setup-record.js';

export interface RemoteSetupOptions {
  config: DbfastConfig;
  /** The remote's name in dbfast.toml. */
  remote: string;
  /** Needed for production remotes (and those with require_confirmation), as for a deploy. */
  confirmed?: boolean | undefined;
  /** List what would run and change nothing (no confirmation needed). */
  dryRun?: boolean | undefined;
  /** Run the files even when this setup already ran on the remote and its roles exist. */
  force?: boolean | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  logger?: Logger | undefined;
}

export interface RemoteSetupReport {
  remote: string;
  /** The remote's server and the maintenance database the files ran in, password masked. */
  url: string;
  /** `[repository] cluster_setup`, in the order they run. */
  files: string[];
  /** Roles the files create (`CREATE ROLE`), and those of them the remote lacked before. */
  roles: string[];
  missingRoles: string[];
  dryRun: boolean;
  /** The files ran (false on a dry run, with no files, or when the setup had already run and nothing is missing). */
  ran: boolean;
  /** This setup had already run on the remote (recorded in a comment line on the connecting role) and its roles exist. */
  upToDate: boolean;
}

/**
 * `dbfast remote setup NAME`: runs the repository's cluster setup (roles, memberships: what
 * acts on the whole server and so never travels in a deploy's dump) on a remote, in its
 * maintenance database. Validate first, act second: the policy (production needs confirmation)
 * and the connected role's CREATEROLE are checked before any file runs.
 */
export async function remoteSetup(options: RemoteSetupOptions): Promise<RemoteSetupReport> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const remote = findRemote(config, options.remote);
  const files = clusterSetupFiles(config);
  const dryRun = options.dryRun === true;
  if (!dryRun) requireConfirmation(remote, options.confirmed, 'running the cluster setup on', `dbfast remote setup ${remote.name}`);
  const target = remoteTarget(remote, options.env ?? process.env);
  const admin = await connectMaintenance(target);
  const maintenance = withDatabase(target, admin.database);
  const report: RemoteSetupReport = {
    remote: remote.name,
    url: maskUrl(maintenance.url),
    files: files.map((file) => file.relativePath),
    roles: [],
    missingRoles: [],
    dryRun,
    ran: false,
    upToDate: false,
  };
  try {
    if (files.length === 0) return report;
    const privileges = await rolePrivileges(admin.client);
    const state = roleCommentState(admin.client, config.database.templateName, localState(config.rootDir, target), logger);
    const setup = {
      target: maintenance,
      runner: config.repository.runner,
      pgBinDir: config.tools.pgBinDir,
      logger,
      // The server's setup is one for every environment: [repository] variables only, as on the local server.
      variables: config.repository.variables,
      root: config.repository.path,
      // On the remote (any machine deploying as this role sees it), and in .dbfast/cache as before.
      state,
      force: options.force,
    };
    const planned = await runClusterSetup(files, { ...setup, dryRun: true });
    Object.assign(report, { roles: planned.roles, missingRoles: planned.missingRoles, upToDate: planned.upToDate });
    if (!privileges.createrole) {
      throw new DbfastError(
        'PERMISSION_DENIED',
        `remote "${remote.name}": role "${privileges.user}" lacks the CREATEROLE privilege, which the cluster setup (${report.files.join(', ')}) needs to create and alter roles; nothing was run`,
        {
          hint: `As a superuser on the remote, run: ALTER ROLE "${privileges.user.replaceAll('"', '""')}" CREATEROLE; then \`dbfast remote setup ${remote.name}\` again (or point the remote at a role that has it).`,
          details: { remote: remote.name, role: privileges.user, privilege: 'CREATEROLE' },
        },
      );
    }
    if (dryRun) return report;
    if (planned.upToDate && !options.force) {
      // Known to have run only from this machine's cache (recorded before dbfast kept it on the remote): recorded there now.
      if ((await state.onRemote()) !== planned.hash) await state.record(planned.hash);
      return report;
    }
    const result = await runClusterSetup(files, setup);
    return { ...report, ran: result.ran };
  } finally {
    await admin.client.end().catch(() => undefined);
  }
}
