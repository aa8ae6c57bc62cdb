import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { checkEnvironment, type EnvironmentCheck } from './validate-env.js';
import { filterFiles, findEnvironment, isProductionEnvironment } from './filter.js';
import { scanRepository, type ScannedFile } from './scan.js';
import { includedBy, scanAndHash, type IncludedFile, type PlannedFile } from '../local/plan.js';

/**
 * The project as dbfast.toml describes it: the repository's files and what each
 * environment gets. This is where scanning (I/O) meets the pure environment filter.
 */

export interface EnvironmentSummary {
  name: string;
  files: number;
  production: boolean;
  description?: string | undefined;
}

/** The files an environment gets, in the order they run. Unknown names: exit-2 error. */
export async function environmentFiles(config: DbfastConfig, name: string): Promise<ScannedFile[]> {
  const environment = findEnvironment(config, name);
  // Files of [repository] cluster_setup act on the server: never part of a template.
  const clusterSetup = new Set(config.repository.clusterSetup);
  return filterFiles(await scanRepository(config.repository.path), environment).filter((file) => !clusterSetup.has(file.relativePath));
}

/** The files an environment reaches only through `\i` / `\ir`, each with where it is included. */
export async function environmentIncluded(config: DbfastConfig, name: string): Promise<IncludedFile[]> {
  const environment = findEnvironment(config, name);
  const { files } = await scanAndHash(config);
  return includedBy(files, filterFiles(files, environment));
}

/** Every environment with its file count, in the order dbfast.toml defines them. */
export async function environmentSummaries(config: DbfastConfig): Promise<EnvironmentSummary[]> {
  const files = await scanRepository(config.repository.path);
  return Object.values(config.environments).map((environment) => ({
    name: environment.name,
    files: filterFiles(files, environment).length,
    production: isProductionEnvironment(config, environment.name),
    description: environment.description,
  }));
}

export interface ValidationReport {
  environments: EnvironmentCheck[];
  ok: boolean;
}

async function isDirectory(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
}

/** Checks one environment (`only`) or all: missing folders, no files, production guard. */
export async function validateEnvironments(config: DbfastConfig, only?: string): Promise<ValidationReport> {
  const selected = only ? [findEnvironment(config, only)] : Object.values(config.environments);
  // Hashed (from the cache) for the includes each file makes: what a file includes is guarded with it.
  const { files } = await scanAndHash(config);
  const existing = new Set<string>();
  for (const environment of selected) {
    for (const dir of environment.include_directories ?? []) {
      if (await isDirectory(path.resolve(config.repository.path, dir))) existing.add(dir);
    }
  }
  const includes = (chosen: readonly { relativePath: string }[]): IncludedFile[] => includedBy(files, chosen as PlannedFile[]);
  const environments = selected.map((environment) => checkEnvironment(config, environment, files, (dir) => existing.has(dir), includes));
  return { environments, ok: environments.every((check) => check.problems.length === 0) };
}
