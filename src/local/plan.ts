import { stat } from 'node:fs/promises';
import path from 'node:path';
import { assertProductionSafe, filterFiles, findEnvironment } from '../project/filter.js';
import { withoutClusterSetup } from '../project/environments.js';
import { sha256 } from '../project/hash.js';
import { scanProject, type FileRepository, type ScannedFile } from '../project/scan.js';
import { environmentVariables } from '../config/resolve.js';
import { locateFile } from '../config/repositories.js';
import type { DbfastConfig, RepositoryConfig } from '../config/types.js';
import { cacheFilePath, hashFiles, type HashStats, type IncludeLink } from '../project/hashcache.js';
import { scanIncludes } from '../sql/includes.js';
import { includedBy } from '../project/include-graph.js';
import { planLayers, type Layer } from './layers.js';
import { filterConfigHash } from './manifest.js';
import { templateDatabaseName } from './names.js';

export interface PlannedFile {
  relativePath: string;
  absolutePath: string;
  sha256: string;
  /** The files it includes with `\i` / `\ir`, and on which line. */
  includes?: IncludeLink[];
  /** Not a .sql file of the scan, only reached through includes: never run on its own. */
  includedOnly?: true;
  /** Its named repository, in a project with several (`relativePath` is then `NAME:path`). */
  repository?: FileRepository | undefined;
}

/** One layer of an environment's plan. */
export type PlannedLayer = Layer<PlannedFile>;

/** A file an environment reaches only through `\i` / `\ir`: hashed and guarded with it, run where it is included. */
export interface IncludedFile extends PlannedFile {
  /** `file:line` of the first include of it. */
  includedFrom: string;
}

/** What a template for one environment must contain: its files (in run order), what they include, filter, variables and layers. */
export interface EnvironmentPlan {
  environment: string;
  /** The environment's template: its last layer's, what seed clones. */
  template: string;
  files: PlannedFile[];
  included: IncludedFile[];
  /** psql variables the files run with (`[repository]` and `[environments.NAME]` variables). */
  variables: Record<string, string>;
  /** Hash of the environment's filter (and variables, when it has any): a change makes the template stale. */
  filterHash: string;
  /** At least one; the last one's template is `template`. */
  layers: PlannedLayer[];
  /**
   * `[repository] cluster_setup` as it is now: each listed file and what it includes, with content
   * hashes. Not template files, but the template is built on the server they set up: a change to
   * them makes it stale (and is part of every layer's identity).
   */
  clusterSetup: Array<{ relativePath: string; sha256: string }>;
  /** Files `[repository] cluster_setup` lists that do not exist (the build refuses them; status names them). */
  clusterSetupMissing: string[];
}

/** An included file that is not one of the scanned .sql files; undefined when it does not exist (the runner names that include). */
async function statIncluded(relativePath: string, repository: string, owner: FileRepository | undefined): Promise<ScannedFile | undefined> {
  const absolutePath = path.join(repository, owner ? relativePath.slice(owner.name.length + 1) : relativePath);
  const info = await stat(absolutePath).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  return { relativePath, absolutePath, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, ...(owner ? { repository: owner } : {}) };
}

/** Every SQL file of the project, and every file they include, with content hashes (cached by stat): repository by repository, in run order. */
export async function scanAndHash(config: DbfastConfig): Promise<{ files: PlannedFile[]; stats: HashStats }> {
  const scanned = await scanProject(config);
  const files: PlannedFile[] = [];
  const stats: HashStats = { hashed: 0, cached: 0 };
  for (const repository of config.repositories) {
    const own = scanned.filter((file) => file.repository?.name === repository.name);
    const hashed = await hashRepository(config, repository, own);
    files.push(...hashed.files);
    stats.hashed += hashed.stats.hashed;
    stats.cached += hashed.stats.cached;
  }
  return { files, stats };
}

/** One repository's files (as scanned) hashed, with what they include (inside it: includes never leave their repository). */
async function hashRepository(config: DbfastConfig, configured: RepositoryConfig, own: ScannedFile[]): Promise<{ files: PlannedFile[]; stats: HashStats }> {
  const repository = configured.path;
  const owner: FileRepository | undefined = configured.name === undefined ? undefined : { name: configured.name, root: repository };
  const cache = cacheFilePath(config.rootDir, repository);
  let scanned = own;
  const scannedSql = new Set(scanned.map((file) => file.relativePath));
  const missing = new Set<string>();
  // cluster_setup files that are not .sql files of the scan (`roles.psql`) are hashed too: a change to one makes templates stale.
  const setup = clusterSetupPaths(config).filter((relativePath) => locateFile(config.repositories, relativePath).root === repository && !scannedSql.has(relativePath));
  const listed = (await Promise.all(setup.map((relativePath) => statIncluded(relativePath, repository, owner)))).filter((file): file is ScannedFile => file !== undefined);
  scanned = [...scanned, ...listed];
  for (;;) {
    const { hashes, includes, stats } = await hashFiles(scanned, cache, repository, (file) => scanIncludes(file, repository));
    const known = new Set(scanned.map((file) => file.relativePath));
    // Included files that are not .sql files of the scan (another extension, a dot folder) are hashed too.
    const extra = new Set<string>();
    for (const links of includes) for (const link of links ?? []) if (!known.has(link.relativePath) && !missing.has(link.relativePath)) extra.add(link.relativePath);
    const found = (await Promise.all([...extra].map((relativePath) => statIncluded(relativePath, repository, owner)))).filter((file): file is ScannedFile => file !== undefined);
    for (const relativePath of extra) if (!found.some((file) => file.relativePath === relativePath)) missing.add(relativePath);
    if (found.length === 0) {
      const files = scanned.map((file, index) => {
        const planned: PlannedFile = { relativePath: file.relativePath, absolutePath: file.absolutePath, sha256: hashes[index] as string };
        if (!scannedSql.has(file.relativePath)) planned.includedOnly = true;
        if ((includes[index] ?? []).length > 0) planned.includes = includes[index];
        if (owner) planned.repository = owner;
        return planned;
      });
      return { files, stats };
    }
    scanned = [...scanned, ...found];
  }
}

/** `[repository] cluster_setup` as file names of the scan (`/` separators, `NAME:path` with several repositories). */
function clusterSetupPaths(config: DbfastConfig): string[] {
  return config.repository.clusterSetup.map((file) => file.split(path.sep).join('/'));
}

/** The cluster setup's files and what they include, hashed; and the listed ones that do not exist. */
function plannedClusterSetup(config: DbfastConfig, all: readonly PlannedFile[]): Pick<EnvironmentPlan, 'clusterSetup' | 'clusterSetupMissing'> {
  const byPath = new Map(all.map((file) => [file.relativePath, file]));
  const listed: PlannedFile[] = [];
  const clusterSetupMissing: string[] = [];
  for (const relativePath of clusterSetupPaths(config)) {
    const file = byPath.get(relativePath);
    if (file) listed.push(file);
    else clusterSetupMissing.push(relativePath);
  }
  const clusterSetup = [...listed, ...includedBy(all, listed)].map((file) => ({ relativePath: file.relativePath, sha256: file.sha256 }));
  return { clusterSetup, clusterSetupMissing };
}

/** The environment's variables folded into its filter hash, so changing one makes the template stale. */
function planHash(filterHash: string, variables: Record<string, string>): string {
  const names = Object.keys(variables).sort();
  if (names.length === 0) return filterHash;
  return sha256(JSON.stringify([filterHash, names.map((name) => [name, variables[name]])]));
}

/**
 * One environment's plan from an already hashed scan. Files listed in `[repository]
 * cluster_setup` are not template files. Refuses seed data in production (also reached through
 * an include) unless `guard` is false (status reports the violation instead of stopping at it).
 */
export function planEnvironment(config: DbfastConfig, name: string, all: readonly PlannedFile[], guard = true): EnvironmentPlan {
  const environment = findEnvironment(config, name);
  const template = templateDatabaseName(config, environment.name);
  // Files reached only through includes run where they are included, never on their own.
  const files = withoutClusterSetup(config, filterFiles(all.filter((file) => file.includedOnly !== true), environment));
  const included = includedBy(all, files);
  if (guard) assertProductionSafe(config, environment, [...files, ...included]);
  const variables = environmentVariables(config, environment.name);
  const setup = plannedClusterSetup(config, all);
  // A layer's identity covers what its files include and the variables they run with: a change
  // to either is a different layer template, never a stale one taken for fresh.
  const layers = planLayers(environment, files, config.database.templateName, template, {
    variables,
    reached: (layerFiles) => includedBy(all, layerFiles).map((file) => [file.relativePath, file.sha256] as const),
    // Every layer stands on the server the cluster setup made: a change to it is a change below layer 0.
    clusterSetup: [...setup.clusterSetup.map((file) => [file.relativePath, file.sha256] as const), ...setup.clusterSetupMissing.map((relativePath) => [relativePath, 'missing'] as const)],
  });
  return { environment: environment.name, template, files, included, variables, filterHash: planHash(filterConfigHash(environment), variables), layers, ...setup };
}

/** The production guard's complaint about a plan, or null when it has none. */
export function guardProblem(config: DbfastConfig, plan: EnvironmentPlan): string | null {
  try {
    assertProductionSafe(config, findEnvironment(config, plan.environment), [...plan.files, ...plan.included]);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** One environment's plan, scanning and hashing the repository first. */
export async function planFor(config: DbfastConfig, name: string): Promise<EnvironmentPlan> {
  const { files } = await scanAndHash(config);
  return planEnvironment(config, name, files);
}
