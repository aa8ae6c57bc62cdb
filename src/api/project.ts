/*
 * The library's functions about the project itself: its dbfast.toml (load, the remotes' tables,
 * the effective settings), its repository and environments, and the diagnosis over all of it.
 * Each loads its implementation lazily (a dynamic import), so importing the public surface
 * (src/index.ts) stays cheap, and maps operational failures to coded DbfastErrors.
 */
import type { DbfastConfig } from '../config/types.js';
import type { LoadConfigOptions } from '../config/load.js';
import { loadConfig as load, withModule, type ConfigSource } from '../config/source.js';

/** Reads and validates dbfast.toml (`configPath`, else DBFAST_CONFIG, else upward from `cwd`); unchanged valid contents skip re-validation. */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<DbfastConfig> {
  return load(options);
}

// ---- The project: init, environments ----

/** Writes a commented dbfast.toml for the numbered SQL folders found in `repoDir` (refuses to overwrite without `force`). */
export async function initProject(options: import('../project/init.js').InitOptions = {}): Promise<import('../project/init.js').InitResult> {
  const [init, includes] = await Promise.all([import('../project/init.js'), import('../sql/includes.js')]);
  // init (src/project) sits below the SQL reader (src/sql): the includes are found here and handed down.
  return init.initProject(options, (root) => async (file) => ((await includes.mayInclude(file.absolutePath)) ? includes.scanIncludes(file, root) : []));
}

/** Every .sql file under `root` (recursively), in natural order, with its size. */
export async function scanRepository(root: string): Promise<import('../project/scan.js').ScannedFile[]> {
  return (await import('../project/scan.js')).scanRepository(root);
}

/** Every environment with its file count and whether it is production, in the order dbfast.toml defines them. */
export async function environmentSummaries(options: ConfigSource = {}): Promise<import('../project/environments.js').EnvironmentSummary[]> {
  return withModule(options, () => import('../project/environments.js'), (module, config) => module.environmentSummaries(config));
}

/** One environment's files in the order they run, the files they include (`\i` / `\ir`), and how many the production guard would refuse. */
export async function showEnvironment(options: ConfigSource & { name: string }): Promise<import('../local/environments.js').EnvironmentListing> {
  return withModule(options, () => import('../local/environments.js'), (module, config) => module.showEnvironment(config, options.name));
}

/** Checks one environment (`name`) or all: missing folders, no files, the production guard. */
export async function validateEnvironments(options: ConfigSource & { name?: string | undefined } = {}): Promise<import('../local/environments.js').ValidationReport> {
  return withModule(options, () => import('../local/environments.js'), (module, config) => module.validateEnvironments(config, options.name));
}

// ---- The remotes' tables in dbfast.toml ----

/** The remotes of dbfast.toml, passwords masked. */
export async function listRemotes(options: ConfigSource = {}): Promise<import('../config/remotes.js').RemoteSummary[]> {
  return withModule(options, () => import('../config/remotes.js'), (module, config) => module.listRemotes(config));
}

/** Adds `[remotes.NAME]` to dbfast.toml (comments kept), checked by the same rules as a loaded one; returns it (password masked) and what the rules warn about. */
export async function addRemote(options: ConfigSource & import('../config/remotes.js').NewRemote): Promise<{ remote: import('../config/remotes.js').RemoteSummary; warnings: string[] }> {
  return withModule(options, () => import('../config/remotes.js'), (module, config) => {
    const added = module.addRemote(config, options);
    return { remote: module.summarizeRemote(added.remote), warnings: added.warnings };
  });
}

/**
 * Changes keys of one remote in dbfast.toml, editing only those lines of its table (comments and
 * everything else kept byte for byte), checked as `addRemote` checks; returns the remote, password masked.
 *
 * @example
 * await updateRemote({ configPath: 'dbfast.toml', name: 'staging', changes: { url: 'postgresql://app@db2/shop', noOwner: true } });
 */
export async function updateRemote(options: ConfigSource & { name: string; changes: import('../config/remote-update.js').RemoteChanges }): Promise<{ remote: import('../config/remotes.js').RemoteSummary; changed: string[] }> {
  return withModule(options, () => Promise.all([import('../config/remote-update.js'), import('../config/remotes.js')]), ([update, remotes], config) => {
    const result = update.updateRemote(config, options.name, options.changes, options.env ? { env: options.env } : {});
    return { remote: remotes.summarizeRemote(result.remote), changed: result.changed };
  });
}

/** The effective configuration, setting by setting, with where each value came from (file key, environment variable, default); passwords masked. */
export async function showConfig(options: ConfigSource = {}): Promise<import('../config/show.js').ConfigShow> {
  return withModule(options, () => import('../config/show.js'), (module, config) => module.showConfig(config, options.env));
}

/** Removes `[remotes.NAME]` from dbfast.toml. */
export async function removeRemote(options: ConfigSource & { name: string }): Promise<void> {
  return withModule(options, () => import('../config/remotes.js'), (module, config) => module.removeRemote(config, options.name));
}

// ---- Diagnosis ----

/**
 * Checks what usually goes wrong and says how to fix each: the config, the local server, client
 * tools against each server's version, leftover and stray databases, stale templates, backup
 * folders, each remote's last backup and reachability. Reads only; `ok` is false when a finding
 * is a problem (the CLI exits 3).
 *
 * @example
 * const report = await doctor({ configPath: 'dbfast.toml', maxBackupAge: '24h' });
 * for (const finding of report.findings) console.log(finding.code, finding.message, finding.fix);
 */
export async function doctor(options: import('../doctor/doctor.js').DoctorOptions = {}): Promise<import('../doctor/types.js').DoctorReport> {
  return (await import('../doctor/doctor.js')).doctor(options);
}
