import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkBackups } from '../backup/check.js';
import { backupScope } from '../backup/scope.js';
import type { DbfastConfig, RemoteConfig } from '../config/types.js';
import { errorMessage, isDbfastError, type ErrorCode } from '../errors.js';
import { isProductionRemote } from '../remote/policy.js';
import { testRemote } from '../validate/remote-test.js';
import type { CheckResult } from '../validate/types.js';
import { ageText, type Diagnosis } from './types.js';

/** The code a failed check of `remote test` is reported under. */
function codeOf(check: CheckResult, toolFound: boolean): ErrorCode {
  if (check.code) return check.code;
  if (check.name === 'connect') return 'CONNECTION_FAILED';
  if (check.name === 'pg_dump' || check.name === 'pg_restore') return toolFound ? 'TOOL_TOO_OLD' : 'TOOL_MISSING';
  if (check.name === 'ssl') return 'SSL_NOT_ENCRYPTED';
  if (check.name === 'side_names') return 'SIDE_NAME_TAKEN';
  return 'REMOTE_PRIVILEGES';
}

/** `remote test` for one remote: reachable, privileges, pg_dump/pg_restore against its server version, TLS. */
export async function checkRemote(config: DbfastConfig, remote: RemoteConfig, env: NodeJS.ProcessEnv, d: Diagnosis): Promise<void> {
  const name = `remote ${remote.name}`;
  const report = await testRemote(config, remote, { env, pings: 1 });
  let failures = 0;
  for (const check of report.checks) {
    if (check.ok || check.severity === 'info') continue;
    failures++;
    const tool = check.name === 'pg_dump' ? report.tools.pgDump : check.name === 'pg_restore' ? report.tools.pgRestore : null;
    d.found(name, codeOf(check, tool !== null), check.detail, check.hint, check.severity === 'error' ? 'problem' : 'warning');
  }
  if (failures === 0) {
    d.ok(name, `reachable: PostgreSQL ${report.serverVersion ?? '?'} at ${report.url} as ${report.currentUser ?? '?'}; pg_dump ${report.tools.pgDump?.version ?? '?'} and pg_restore ${report.tools.pgRestore?.version ?? '?'} can work with it`);
  }
}

/** The newest verified backup of a remote, against `maxAge`. */
export async function checkLastBackup(config: DbfastConfig, remote: RemoteConfig, maxAge: string, env: NodeJS.ProcessEnv, d: Diagnosis): Promise<void> {
  const name = `backups ${remote.name}`;
  const result = await checkBackups(backupScope(config, remote.name, { env }), { maxAge });
  const create = `dbfast backup create --remote ${remote.name}`;
  if (result.ok && result.newestVerified) {
    d.ok(name, `newest verified backup ${result.newestVerified.id} is ${ageText(result.newestVerified.ageMs)} old (limit ${maxAge}) in ${result.location}`);
  } else if (!result.newestVerified) {
    // A remote never deployed to has no backup yet; production without one is a problem.
    d.found(name, 'NO_BACKUPS', `remote ${remote.name}: ${result.problem ?? 'no verified backup'} in ${result.location}`, create, isProductionRemote(remote) ? 'problem' : 'warning');
  } else {
    d.found(name, 'BACKUP_TOO_OLD', `remote ${remote.name}: ${result.problem ?? 'the newest backup is too old'} (taken ${result.newestVerified.createdAt})`, `${create}; schedule it (cron or a systemd timer) so it never gets older than ${maxAge}`);
  }
}

/** The folder a path is, or the nearest folder above it that exists (where it would be created). */
function existingFolder(dir: string): string | undefined {
  let current = dir;
  while (!existsSync(current)) {
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
  return current;
}

/** Backup folders: writable (a file is really written and removed) and with `minFreeBytes` free. S3 locations are left to `backup list`. */
export async function checkBackupDirs(config: DbfastConfig, minFreeBytes: number, d: Diagnosis): Promise<void> {
  const dirs = new Set([config.backup.dir, ...Object.values(config.remotes).flatMap((remote) => (remote.backup.dir ? [remote.backup.dir] : []))]);
  for (const dir of dirs) {
    if (/^s3:\/\//i.test(dir)) {
      d.skipped('backup folder', `${dir}: object storage, space and permissions are the bucket's (see \`dbfast backup list\`)`);
      continue;
    }
    const folder = existingFolder(dir);
    if (folder === undefined || !statSync(folder).isDirectory()) {
      d.found('backup folder', 'BACKUP_DIR_UNWRITABLE', `backup folder ${dir} cannot be created: ${folder ?? dir} is not a folder`, 'Point [backup] dir at a folder (or remove the file in its way).');
      continue;
    }
    const probe = path.join(folder, `.dbfast-doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await writeFile(probe, '');
      await rm(probe, { force: true });
    } catch (error) {
      d.found('backup folder', 'BACKUP_DIR_UNWRITABLE', `backup folder ${dir} is not writable: ${(error as Error).message}`, `Give the user running dbfast write access to ${folder} (chown/chmod), or point [backup] dir elsewhere.`);
      continue;
    }
    const space = await statfs(folder);
    const free = space.bavail * space.bsize;
    const where = folder === dir ? dir : `${dir} (to be created in ${folder})`;
    if (free < minFreeBytes) {
      d.found('backup folder', 'BACKUP_DIR_LOW_SPACE', `backup folder ${where} has ${formatBytes(free)} free, less than the ${formatBytes(minFreeBytes)} asked for`, 'Free some space (`dbfast backup prune --remote NAME --confirm`), or point [backup] dir at a bigger disk.');
    } else {
      d.ok('backup folder', `${where}: writable, ${formatBytes(free)} free`);
    }
  }
}

/** Bytes for a finding's message (the CLI formats its own). */
function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** The finding for an error that is not a DbfastError (a folder that cannot be read, a bug). */
export interface ForeignError {
  code: ErrorCode;
  fix: string;
}

/**
 * A finding is one line: a message's first line, or, when that line introduces a list
 * ("2 repository folders do not exist:"), the line with its items (an SQL excerpt is left out).
 */
export function oneLine(message: string): string {
  const [head = message, ...rest] = message.split('\n');
  if (!head.endsWith(':') || rest.length === 0) return head;
  return `${head} ${rest.map((line) => line.trim()).filter(Boolean).join('; ')}`;
}

/**
 * Runs a check; what it throws becomes its finding, so one broken check never hides the others:
 * a DbfastError with its own code and hint, anything else as `foreign` says (default INTERNAL).
 */
export async function guarded(d: Diagnosis, name: string, run: () => Promise<void>, foreign?: ForeignError): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (isDbfastError(error)) {
      d.found(name, error.code, oneLine(error.message), error.hint);
    } else {
      d.found(name, foreign?.code ?? 'INTERNAL', errorMessage(error), foreign?.fix);
    }
  }
}
