import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { checkEnvironment, type EnvironmentCheck } from './validate-env.js';
import { filterFiles, findEnvironment, guardViolations, isProductionEnvironment } from './filter.js';
import { scanRepository, type ScannedFile } from './scan.js';

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
  return filterFiles(await scanRepository(config.repository.path), environment);
}

/** One environment's files, in run order, and how many of them look like development or test data in a production environment. */
export interface EnvironmentListing {
  environment: string;
  repository: string;
  files: ScannedFile[];
  /** Files the production guard would refuse (0 outside production, or with allow_seed_data). */
  guardViolations: number;
}

/** What `dbfast environments show NAME` prints: the files in run order, and the production guard's count. */
export async function showEnvironment(config: DbfastConfig, name: string): Promise<EnvironmentListing> {
  const environment = findEnvironment(config, name);
  const files = await environmentFiles(config, environment.name);
  const guarded = isProductionEnvironment(config, environment.name) && environment.allow_seed_data !== true;
  return { environment: environment.name, repository: config.repository.path, files, guardViolations: guarded ? guardViolations(files).length : 0 };
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
  const files = await scanRepository(config.repository.path);
  const existing = new Set<string>();
  for (const environment of selected) {
    for (const dir of environment.include_directories ?? []) {
      if (await isDirectory(path.resolve(config.repository.path, dir))) existing.add(dir);
    }
  }
  const environments = selected.map((environment) => checkEnvironment(config, environment, files, (dir) => existing.has(dir)));
  return { environments, ok: environments.every((check) => check.problems.length === 0) };
}
