import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { filterFiles, findEnvironment, isProductionEnvironment } from './filter.js';
import { scanProject, type ScannedFile } from './scan.js';

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

/** `files` without those of `[repository] cluster_setup`: they act on the server, never part of an environment. */
export function withoutClusterSetup<T extends { relativePath: string }>(config: DbfastConfig, files: readonly T[]): T[] {
  if (config.repository.clusterSetup.length === 0) return [...files];
  const clusterSetup = new Set(config.repository.clusterSetup.map((file) => file.split(path.sep).join('/')));
  return files.filter((file) => !clusterSetup.has(file.relativePath));
}

/** The files an environment gets, in the order they run. Unknown names: exit-2 error. */
export async function environmentFiles(config: DbfastConfig, name: string): Promise<ScannedFile[]> {
  const environment = findEnvironment(config, name);
  return withoutClusterSetup(config, filterFiles(await scanProject(config), environment));
}

/** Every environment with its file count, in the order dbfast.toml defines them. */
export async function environmentSummaries(config: DbfastConfig): Promise<EnvironmentSummary[]> {
  const files = await scanProject(config);
  return Object.values(config.environments).map((environment) => ({
    name: environment.name,
    files: withoutClusterSetup(config, filterFiles(files, environment)).length,
    production: isProductionEnvironment(config, environment.name),
    description: environment.description,
  }));
}
