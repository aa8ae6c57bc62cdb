import { DbfastError } from '../errors.js';
import type { RemoteConfig } from '../config/types.js';

export type DeployMode = 'replace' | 'migrate';

export interface DeployPolicyInput {
  remote: RemoteConfig;
  /** `--env`; defaults to the remote's environment. */
  environment?: string | undefined;
  confirmed: boolean;
  skipBackup: boolean;
  dryRun: boolean;
  mode?: DeployMode | undefined;
}

export interface DeployPolicy {
  environment: string;
  mode: DeployMode;
  backup: boolean;
}

function refuse(code: string, message: string, hint: string): DbfastError {
  return new DbfastError(code, message, { hint, exitCode: 2 });
}

export function isProductionRemote(remote: RemoteConfig): boolean {
  return remote.environment === 'production' || remote.name === 'production';
}

/**
 * The checks that need nothing but the config and flags. They run first, so a refused deploy
 * has not connected anywhere, built anything or written anything.
 */
export function decideDeployPolicy(input: DeployPolicyInput): DeployPolicy {
  const { remote } = input;
  const environment = input.environment ?? remote.environment;
  if (environment !== remote.environment) {
    throw refuse(
      'ENVIRONMENT_MISMATCH',
      `remote "${remote.name}" takes environment "${remote.environment}", not "${environment}"`,
      `Deploy with --env ${remote.environment} (or omit --env). To change what the remote gets, edit remotes.${remote.name}.environment in dbfast.toml.`,
    );
  }
  const production = isProductionRemote(remote);
  if (input.skipBackup && production) {
    throw refuse('BACKUP_REQUIRED', `remote "${remote.name}" is production: --skip-backup is refused`, 'Production deploys always back up first; drop --skip-backup.');
  }
  // A remote whose database may not be replaced gets migrations unless told otherwise.
  const mode = input.mode ?? (remote.allowDestructive ? 'replace' : 'migrate');
  if (mode === 'replace' && !remote.allowDestructive) {
    throw refuse(
      'DESTRUCTIVE_NOT_ALLOWED',
      `--mode replace would replace the database of remote "${remote.name}", and remotes.${remote.name}.allow_destructive is false`,
      `Deploy without --mode (or with --mode migrate) to apply pending migrations instead; set allow_destructive = true under [remotes.${remote.name}] if replacing that database is intended.`,
    );
  }
  if (remote.requireConfirmation && !input.confirmed && !input.dryRun) {
    throw refuse(
      'CONFIRMATION_REQUIRED',
      `deploying to remote "${remote.name}" needs confirmation${production ? ' (production)' : ''}`,
      'Pass --confirm (or --yes), or run in a terminal and answer the prompt. Try --dry-run to see the plan first.',
    );
  }
  return { environment, mode, backup: production || (remote.backupBeforeDeploy && !input.skipBackup) };
}
