import { parseAge } from '../backup/prune.js';
import { configOf, type ConfigSource } from '../config/source.js';
import type { DbfastConfig } from '../config/types.js';
import { isDbfastError } from '../errors.js';
import { checkLocalDatabases, checkLocalServer, checkLocalTools, checkTemplates } from './local.js';
import { checkBackupDirs, checkLastBackup, checkRemote, guarded } from './remotes.js';
import { Diagnosis, mergeInto, plural, type DoctorReport } from './types.js';

/** What `dbfast doctor` checks against. */
export interface DoctorOptions extends ConfigSource {
  /** The oldest the newest verified backup of a remote may be (`24h`, `7d`; default 7d). */
  maxBackupAge?: string | undefined;
  /** Free space a backup folder needs (default 1 GiB). */
  minFreeBytes?: number | undefined;
}

const GIB = 1024 ** 3;

/**
 * Checks what usually goes wrong, each through the library's own functions (config loader,
 * `remote test`, `list`, `status`, `backup check`): the config, the local server, the client
 * tools, leftover and stray databases, stale templates, backup folders, the last backup of each
 * remote, each remote's reachability. Reads only; never starts the managed server.
 */
export async function doctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const maxAge = options.maxBackupAge ?? '7d';
  parseAge(maxAge);
  const d = new Diagnosis();
  let config: DbfastConfig;
  try {
    config = await configOf(options);
  } catch (error) {
    if (!isDbfastError(error)) throw error;
    d.found('config', error.code, error.message, error.hint);
    return report(d, null);
  }
  d.ok('config', `${config.configPath} loads: ${plural(Object.keys(config.environments).length, 'environment')}, ${plural(Object.keys(config.remotes).length, 'remote')}`);

  let local: Awaited<ReturnType<typeof checkLocalServer>>;
  await guarded(d, 'local server', async () => {
    local = await checkLocalServer(config, env, d);
  });
  await guarded(d, 'tools', () => checkLocalTools(config, local, d));
  if (local) {
    const server = local;
    await guarded(d, 'local databases', () => checkLocalDatabases(config, server, d));
    await guarded(d, 'templates', () => checkTemplates(config, d));
  }
  await guarded(d, 'backup folder', () => checkBackupDirs(config, options.minFreeBytes ?? GIB, d));
  const perRemote = await Promise.all(
    Object.values(config.remotes).map(async (remote) => {
      const own = new Diagnosis();
      await guarded(own, `remote ${remote.name}`, () => checkRemote(config, remote, env, own));
      await guarded(own, `backups ${remote.name}`, () => checkLastBackup(config, remote, maxAge, env, own), {
        code: 'BACKUP_STORAGE_FAILED',
        fix: `Make the backup folder of remote ${remote.name} readable (see the backup folder check above).`,
      });
      return own;
    }),
  );
  for (const own of perRemote) mergeInto(d, own);
  return report(d, config.configPath);
}

function report(d: Diagnosis, configPath: string | null): DoctorReport {
  return { ok: d.findings.every((finding) => finding.severity !== 'problem'), configPath, checks: d.checks, findings: d.findings };
}
