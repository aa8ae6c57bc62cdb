import { stat } from 'node:fs/promises';
import path from 'node:path';
import { splitQualified } from '../config/repositories.js';
import type { DbfastConfig } from '../config/types.js';
import { environmentFiles } from '../project/environments.js';
import { findEnvironment, guardViolations, isProductionEnvironment } from '../project/filter.js';
import type { ScannedFile } from '../project/scan.js';
import { checkEnvironment, type EnvironmentCheck } from '../project/validate-env.js';
import { includedBy } from '../project/include-graph.js';
import { planEnvironment, scanAndHash, type IncludedFile, type PlannedFile } from './plan.js';

/**
 * What `environments show` and `validate-env` report. Here rather than in project/: the files an
 * environment reaches through `\i` / `\ir` belong to it (listed, guarded), and finding them takes
 * the SQL reader and the hashed scan of plan.ts.
 */

/** One environment's files, in run order, what they include, and how many look like development or test data in a production environment. */
export interface EnvironmentListing {
  environment: string;
  /** The first repository's folder (the only one in the simple case). */
  repository: string;
  /** Every repository, in run order: its name (named repositories) and folder. */
  repositories: Array<{ name?: string | undefined; path: string }>;
  files: ScannedFile[];
  /** Files reached only through `\i` / `\ir`, each with the `file:line` that first includes it. */
  included: IncludedFile[];
  /** Files (included ones too) the production guard would refuse (0 outside production, or with allow_seed_data). */
  guardViolations: number;
}

/** What `dbfast environments show NAME` prints: the files in run order, what they include, and the production guard's count. */
export async function showEnvironment(config: DbfastConfig, name: string): Promise<EnvironmentListing> {
  const environment = findEnvironment(config, name);
  const files = await environmentFiles(config, environment.name);
  // The hashes come from the cache for unchanged files; the includes each file makes are kept with them.
  const { files: hashed } = await scanAndHash(config);
  const { included } = planEnvironment(config, environment.name, hashed, false);
  const guarded = isProductionEnvironment(config, environment.name) && environment.allow_seed_data !== true;
  return {
    environment: environment.name,
    repository: config.repository.path,
    repositories: config.repositories.map(({ name, path: folder }) => (name === undefined ? { path: folder } : { name, path: folder })),
    files,
    included,
    guardViolations: guarded ? guardViolations([...files, ...included]).length : 0,
  };
}

export interface ValidationReport {
  environments: EnvironmentCheck[];
  ok: boolean;
}

async function isDirectory(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
}

/** Whether a folder of `include_directories` exists: in its repository (`core:0_schema`), or (a plain one) in any. */
async function directoryExists(config: DbfastConfig, dir: string): Promise<boolean> {
  const split = splitQualified(dir);
  const named = split ? config.repositories.find((repository) => repository.name !== undefined && repository.name === split.repository) : undefined;
  if (named && split) return isDirectory(path.resolve(named.path, split.rest));
  for (const repository of config.repositories) if (await isDirectory(path.resolve(repository.path, dir))) return true;
  return false;
}

/** Checks one environment (`only`) or all: missing folders, no files, production guard (included files too). */
export async function validateEnvironments(config: DbfastConfig, only?: string): Promise<ValidationReport> {
  const selected = only ? [findEnvironment(config, only)] : Object.values(config.environments);
  // Hashed (from the cache) for the includes each file makes: what a file includes is guarded with it.
  const { files } = await scanAndHash(config);
  const existing = new Set<string>();
  for (const environment of selected) {
    for (const dir of environment.include_directories ?? []) {
      if (await directoryExists(config, dir)) existing.add(dir);
    }
  }
  const scannedSql = files.filter((file) => file.includedOnly !== true);
  const includes = (chosen: readonly { relativePath: string }[]): IncludedFile[] => includedBy(files, chosen as PlannedFile[]);
  const environments = selected.map((environment) => checkEnvironment(config, environment, scannedSql, (dir) => existing.has(dir), includes));
  return { environments, ok: environments.every((check) => check.problems.length === 0) };
}
