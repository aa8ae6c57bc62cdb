import path from 'node:path';
import type { DeployTrigger } from '../history/records.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';

/** One deploy the webhook server asks for: a commit's worktree, a remote, and what triggered it. */
export interface DeployRequest {
  /** dbfast.toml of the pushed commit, inside its worktree. */
  configPath: string;
  /** The worktree holding exactly the pushed commit. */
  worktreeDir: string;
  remote: string;
  /** The route's `environment`; undefined: the remote's own. */
  environment: string | undefined;
  /** The route's `confirm = true`: what `--confirm` is on the CLI. */
  confirmed: boolean;
  trigger: DeployTrigger;
  /** The id the deploy history record gets (known before the deploy ends, for the delivery record). */
  deployId: string;
  /** The serving config's `[backup] dir`: backups outlive the worktree. */
  backupDir: string;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/** What the delivery record keeps of a successful deploy. */
export interface DeployOutcome {
  deployId: string;
  mode: string | null;
  backupId: string | null;
  durationMs: number;
}

/**
 * The one seam between the webhook server and the deploy code: resolves when the deploy
 * succeeded, throws (a DbfastError with the cause) when it did not. Tests and library users
 * may pass their own; `defaultDeployRunner` is the real deploy.
 */
export type DeployRunner = (request: DeployRequest) => Promise<DeployOutcome>;

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Loads the commit's dbfast.toml and runs the same `deploy()` the CLI runs, with every guard
 * (environment match, production confirmation, backup first, preflight). Variables that would
 * point the config elsewhere (DBFAST_CONFIG, DBFAST_REPOSITORY_PATH) are not passed on: the SQL
 * deployed is the commit's, never a working tree's.
 */
export const defaultDeployRunner: DeployRunner = async (request) => {
  const env: NodeJS.ProcessEnv = { ...request.env };
  delete env.DBFAST_CONFIG;
  delete env.DBFAST_REPOSITORY_PATH;
  const [{ loadConfig }, { deploy }] = await Promise.all([import('../config/load.js'), import('../deploy/deploy.js')]);
  const config = loadConfig({ configPath: request.configPath, env });
  // Every repository: one outside the commit (e.g. ../core-sql) would deploy a working tree's SQL.
  for (const repository of config.repositories) {
    if (isInside(repository.path, request.worktreeDir)) continue;
    const key = repository.name === undefined ? repository.key : `${repository.key}.path`;
    throw new DbfastError('WEBHOOK_REPOSITORY_OUTSIDE', `${key} of the pushed dbfast.toml is ${repository.path}, outside the commit's worktree`, {
      hint: 'A webhook deploys the SQL of the pushed commit only: make every repository path relative to dbfast.toml, inside the repository.',
    });
  }
  // The worktree goes away after the deploy; backups must not.
  if (isInside(config.backup.dir, request.worktreeDir)) config.backup.dir = request.backupDir;
  const report = await deploy({
    config,
    remote: request.remote,
    environment: request.environment,
    confirmed: request.confirmed,
    trigger: request.trigger,
    deployId: request.deployId,
    logger: request.logger,
    env,
  });
  return { deployId: report.deployId, mode: report.mode, backupId: report.backupId, durationMs: report.durationMs };
};
