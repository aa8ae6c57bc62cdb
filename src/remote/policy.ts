import { DbfastError, type ErrorCode } from '../errors.js';
import type { RemoteConfig } from '../config/types.js';

/*
 * Every decision about what a remote allows, in one place, from the config and the flags alone:
 * nothing here connects, so a refused command has touched nothing.
 */

/** replace: the template replaces the database; migrate: pending migrations are applied to it. */
export type DeployMode = 'replace' | 'migrate';

/** How a database is replaced: a side database swapped in, or in place in one transaction. */
export type RestoreMode = 'swap' | 'in-place';

function refuse(code: ErrorCode, message: string, hint: string): DbfastError {
  return new DbfastError(code, message, { hint });
}

/** A remote called `production`, or deployed with the `production` environment. */
export function isProductionRemote(remote: Pick<RemoteConfig, 'name' | 'environment'>): boolean {
  return remote.environment === 'production' || remote.name === 'production';
}

/** Production remotes and those with `require_confirmation = true` need `--confirm` (or a typed answer) to be changed. */
export function confirmationRequired(remote: Pick<RemoteConfig, 'name' | 'environment' | 'requireConfirmation'>): boolean {
  return isProductionRemote(remote) || remote.requireConfirmation;
}

/**
 * Throws CONFIRMATION_REQUIRED when the remote needs a confirmation that was not given.
 * `action` says what would happen, e.g. `restoring backup X over`.
 */
export function requireConfirmation(remote: RemoteConfig, confirmed: boolean | undefined, action: string, retry?: string): void {
  if (confirmed === true || !confirmationRequired(remote)) return;
  throw refuse(
    'CONFIRMATION_REQUIRED',
    `${action} remote "${remote.name}"${isProductionRemote(remote) ? ' (production)' : ''} needs confirmation; nothing was changed`,
    `Pass --confirm (or --yes), or run it in a terminal and answer the prompt${retry ? `: ${retry} --confirm` : '.'}`,
  );
}

/** `--env` must be the remote's environment (what it gets is its own); returns the environment. */
export function checkEnvironment(remote: RemoteConfig, environment: string | undefined): string {
  const wanted = environment ?? remote.environment;
  if (wanted === remote.environment) return wanted;
  throw refuse(
    'ENVIRONMENT_MISMATCH',
    `remote "${remote.name}" takes environment "${remote.environment}", not "${wanted}"`,
    `Use --env ${remote.environment} (or omit --env). To change what the remote gets, edit remotes.${remote.name}.environment in dbfast.toml.`,
  );
}

/** Whether a run that changes the database backs it up first: always for production; `--skip-backup` is refused there. */
export function backupRequired(remote: RemoteConfig, skipBackup: boolean): boolean {
  const production = isProductionRemote(remote);
  if (skipBackup && production) {
    throw refuse('BACKUP_REQUIRED', `remote "${remote.name}" is production: --skip-backup is refused`, 'Production deploys always back up first; drop --skip-backup.');
  }
  return production || (remote.backupBeforeDeploy && !skipBackup);
}

/**
 * swap when the user may create databases and may rename the live one (owns it, or is a
 * superuser), or it does not exist yet; in-place when it exists but cannot be swapped;
 * undefined when neither is possible (it does not exist and cannot be created).
 */
export function chooseReplaceMode(facts: { canCreateDatabases: boolean; superuser: boolean; databaseExists: boolean; ownsDatabase: boolean | null }): RestoreMode | undefined {
  if (facts.canCreateDatabases && (!facts.databaseExists || facts.ownsDatabase === true || facts.superuser)) return 'swap';
  return facts.databaseExists ? 'in-place' : undefined;
}

/** The remote and the flags a deploy was given. */
export interface DeployPolicyInput {
  remote: RemoteConfig;
  /** `--env`; defaults to the remote's environment. */
  environment?: string | undefined;
  confirmed: boolean;
  skipBackup: boolean;
  dryRun: boolean;
  mode?: DeployMode | undefined;
}

/** What a deploy will do: for which environment, how, and whether it backs up first. */
export interface DeployPolicy {
  environment: string;
  mode: DeployMode;
  backup: boolean;
}

/**
 * The checks that need nothing but the config and flags. They run first, so a refused deploy
 * has not connected anywhere, built anything or written anything.
 */
export function decideDeployPolicy(input: DeployPolicyInput): DeployPolicy {
  const { remote } = input;
  const environment = checkEnvironment(remote, input.environment);
  const backup = backupRequired(remote, input.skipBackup);
  // A remote whose database may not be replaced gets migrations unless told otherwise.
  const mode = input.mode ?? (remote.allowDestructive ? 'replace' : 'migrate');
  if (mode === 'replace' && !remote.allowDestructive) {
    throw refuse(
      'DESTRUCTIVE_NOT_ALLOWED',
      `--mode replace would replace the database of remote "${remote.name}", and remotes.${remote.name}.allow_destructive is false`,
      `Deploy without --mode (or with --mode migrate) to apply pending migrations instead; set allow_destructive = true under [remotes.${remote.name}] if replacing that database is intended.`,
    );
  }
  if (!input.dryRun) requireConfirmation(remote, input.confirmed, 'deploying to', `dbfast deploy --remote ${remote.name}`);
  return { environment, mode, backup };
}
