/**
 * Deploy groups (`[[deploy.groups]]`): what runs on the live database once a deploy has put it in
 * place, group by group in `order`: data fixes and grants (SQL files), and shell commands, each
 * group with its own pre/post commands, required variables and health check. This file decides
 * which groups a deploy runs and checks them before anything connects: names, files (found and
 * split), required variables. Running them is group-run.ts.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import type { DbfastConfig } from '../config/types.js';
import type { DeployGroupFileConfig } from '../config/schema.js';
import { DbfastError } from '../errors.js';
import { scanRepository } from '../project/scan.js';
import { planFile, type SqlFile } from '../sql/index.js';
import { maskHttpUrl, resolveHealthCheck, type HealthCheck } from './health.js';

/** One `[[deploy.groups]]` entry, defaults applied. */
export interface DeployGroup {
  name: string;
  /** Lowest first; groups without one are 0; ties keep the order they are written in. */
  order: number;
  /** Globs (or paths) of SQL files relative to dbfast.toml's folder, as written. */
  files: string[];
  commands: string[];
  pre: string[];
  post: string[];
  requiredEnv: string[];
  healthCheck: HealthCheck | undefined;
  description: string | undefined;
}

/** A group whose files were found and read: ready to run. */
export interface PreparedGroup extends DeployGroup {
  /** The SQL files, in run order: the globs' order, natural path order within one glob, each file once. */
  sqlFiles: SqlFile[];
}

/** `--group NAME...` / `--skip-group NAME...`. */
export interface GroupSelection {
  /** Only these (default: every group). */
  only?: readonly string[] | undefined;
  skip?: readonly string[] | undefined;
}

/** The groups a deploy runs, in order, and the ones it leaves out, with why. */
export interface SelectedGroups {
  run: DeployGroup[];
  skipped: Array<{ name: string; reason: string }>;
}

function fromFile(group: DeployGroupFileConfig): DeployGroup {
  return {
    name: group.name,
    order: group.order ?? 0,
    files: group.files ?? [],
    commands: group.commands ?? [],
    pre: group.pre ?? [],
    post: group.post ?? [],
    requiredEnv: group.required_env ?? [],
    healthCheck: resolveHealthCheck(group.health_check),
    description: group.description,
  };
}

/** Every configured group, in the order they run (by `order`; ties as written). */
export function configuredGroups(config: DbfastConfig): DeployGroup[] {
  return (config.deploy.groups ?? [])
    .map((group, index) => ({ group: fromFile(group), index }))
    .sort((a, b) => a.group.order - b.group.order || a.index - b.index)
    .map(({ group }) => group);
}

/**
 * Applies `--group` / `--skip-group`. A name that is no group is a usage error (exit 2): a typo
 * must not silently deploy without the grants it meant to select.
 */
export function selectGroups(config: DbfastConfig, selection: GroupSelection = {}): SelectedGroups {
  const groups = configuredGroups(config);
  const known = new Set(groups.map((group) => group.name));
  const unknown = [...(selection.only ?? []), ...(selection.skip ?? [])].filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new DbfastError('GROUP_UNKNOWN', `no deploy group named ${unknown.map((name) => `"${name}"`).join(', ')} in ${config.configPath}`, {
      hint: groups.length > 0 ? `Deploy groups: ${groups.map((group) => group.name).join(', ')}.` : 'Define groups with [[deploy.groups]] (name, order, files, commands) in dbfast.toml.',
      details: { unknown },
    });
  }
  const only = selection.only && selection.only.length > 0 ? new Set(selection.only) : undefined;
  const skip = new Set(selection.skip ?? []);
  const run: DeployGroup[] = [];
  const skipped: SelectedGroups['skipped'] = [];
  for (const group of groups) {
    if (skip.has(group.name)) skipped.push({ name: group.name, reason: '--skip-group' });
    else if (only && !only.has(group.name)) skipped.push({ name: group.name, reason: 'not named by --group' });
    else run.push(group);
  }
  return { run, skipped };
}

/** What runs once the new database is live besides the post hooks: the deploy groups, and whether health checks run. */
export interface AfterDeployOptions {
  /** The selected groups, in run order, files found and read. */
  groups: PreparedGroup[];
  /** Groups left out by --group / --skip-group, with why. */
  skipped: Array<{ name: string; order: number; reason: string }>;
  /** Every configured group's name, in run order (how the report lists them). */
  sequence: string[];
  /** A failing group becomes a warning and the next group runs (instead of rolling the deploy back). */
  continueOnFailure: boolean;
  /** False with --no-health-check: neither the remote's nor the groups' health checks run. */
  healthChecks: boolean;
}

/** The deploy's flags about groups and checks. */
export interface DeployGroupFlags {
  /** `--group NAME`: only these groups. */
  groups?: readonly string[] | undefined;
  /** `--skip-group NAME`. */
  skipGroups?: readonly string[] | undefined;
  /** `--continue-on-failure`: a failing group does not stop (or roll back) the deploy. */
  continueOnFailure?: boolean | undefined;
  /** `--no-health-check`: neither the remote's nor the groups' health checks run. */
  skipHealthChecks?: boolean | undefined;
  /** `--skip-validation`: required variables (required_env) are not checked. */
  skipValidation?: boolean | undefined;
}

/**
 * Selects the groups and checks them (names, files) before anything connects, and says what the
 * flags leave out, for the history record's notes.
 */
export async function prepareAfterDeploy(config: DbfastConfig, flags: DeployGroupFlags): Promise<{ after: AfterDeployOptions; selected: SelectedGroups; notes: string[] }> {
  const selected = selectGroups(config, { only: flags.groups, skip: flags.skipGroups });
  const notes: string[] = [];
  if (flags.groups && flags.groups.length > 0) notes.push(`--group: only ${flags.groups.join(', ')}`);
  if (flags.skipGroups && flags.skipGroups.length > 0) notes.push(`--skip-group: ${flags.skipGroups.join(', ')} not run`);
  if (flags.skipHealthChecks) notes.push('--no-health-check: health checks were not run');
  const after: AfterDeployOptions = {
    groups: await prepareGroups(config, selected.run),
    skipped: selected.skipped.map((entry) => ({ ...entry, order: configuredGroups(config).find((group) => group.name === entry.name)?.order ?? 0 })),
    sequence: configuredGroups(config).map((group) => group.name),
    continueOnFailure: flags.continueOnFailure === true,
    healthChecks: flags.skipHealthChecks !== true,
  };
  return { after, selected, notes };
}

/** Required variables of the groups that are unset or empty, each once, in the order configured. */
export function groupsMissingEnv(groups: readonly DeployGroup[], env: NodeJS.ProcessEnv): string[] {
  return [...new Set(groups.flatMap((group) => group.requiredEnv))].filter((name) => !env[name]);
}

/** The SQL files one glob (or plain path) names under `rootDir`, in natural path order. */
async function filesOfGlob(rootDir: string, glob: string): Promise<SqlFile[]> {
  const scanned = picomatch.scan(glob);
  if (!scanned.isGlob) {
    const absolutePath = path.join(rootDir, glob);
    const info = await stat(absolutePath).catch(() => undefined);
    return info?.isFile() && glob.toLowerCase().endsWith('.sql') ? [{ relativePath: glob, absolutePath }] : [];
  }
  // Only the glob's fixed folder is walked, never the whole project (node_modules, .git are skipped anyway).
  const base = scanned.base;
  const matches = picomatch(scanned.glob, { dot: false });
  const found = await scanRepository(path.join(rootDir, base)).catch(() => []);
  return found
    .filter((file) => matches(file.relativePath))
    .map((file) => ({ relativePath: base ? `${base}/${file.relativePath}` : file.relativePath, absolutePath: file.absolutePath }));
}

/**
 * Finds each group's files and reads and splits them (so a file that cannot run, e.g. an
 * unterminated COPY, is named with `file:line` now, before anything connects). A glob that
 * matches no `.sql` file is refused (GROUP_FILES_MISSING, exit 2).
 */
export async function prepareGroups(config: DbfastConfig, groups: readonly DeployGroup[]): Promise<PreparedGroup[]> {
  const prepared: PreparedGroup[] = [];
  for (const group of groups) {
    const sqlFiles: SqlFile[] = [];
    const seen = new Set<string>();
    for (const glob of group.files) {
      const files = await filesOfGlob(config.rootDir, glob);
      if (files.length === 0) {
        throw new DbfastError('GROUP_FILES_MISSING', `deploy group "${group.name}": files entry "${glob}" matches no .sql file under ${config.rootDir}`, {
          hint: 'Paths and globs in [[deploy.groups]] files are relative to the folder of dbfast.toml (e.g. "deploy/grants/*.sql"); fix the entry or add the files.',
          details: { group: group.name, glob },
        });
      }
      for (const file of files) {
        if (seen.has(file.absolutePath)) continue;
        seen.add(file.absolutePath);
        sqlFiles.push(file);
      }
    }
    for (const file of sqlFiles) await planFile(file);
    prepared.push({ ...group, sqlFiles });
  }
  return prepared;
}

/** What a group would do, one line each, for the dry run and the docs. */
export function describeGroup(group: PreparedGroup, healthChecks: boolean): string {
  const parts: string[] = [];
  if (group.pre.length > 0) parts.push(`pre: ${group.pre.join('; ')}`);
  if (group.sqlFiles.length > 0) parts.push(`SQL in one transaction: ${group.sqlFiles.map((file) => file.relativePath).join(', ')}`);
  if (group.commands.length > 0) parts.push(`commands: ${group.commands.join('; ')}`);
  if (group.post.length > 0) parts.push(`post: ${group.post.join('; ')}`);
  if (group.healthCheck) parts.push(healthChecks ? `health check: GET ${maskHttpUrl(group.healthCheck.url)} until it answers ${group.healthCheck.expectedStatus} (at most ${group.healthCheck.timeoutSeconds} s)` : 'health check skipped (--no-health-check)');
  return `group ${group.name} (order ${group.order}): ${parts.length > 0 ? parts.join('; ') : 'nothing to run'}`;
}
