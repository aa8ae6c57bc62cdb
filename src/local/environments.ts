import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { DbfastConfig } from '../config/types.js';
import { environmentFiles } from '../project/environments.js';
import { findEnvironment, guardViolations, isProductionEnvironment } from '../project/filter.js';
import type { ScannedFile } from '../project/scan.js';
import { checkEnvironment, type EnvironmentCheck } from '../project/validate-env.js';
import { includedBy, planEnvironment, scanAndHash, type IncludedFile, type PlannedFile } from './plan.js';

/**
 * What `environments show` and `validate-env` report. Here rather than in project/: the files an
 * environment reaches through `\i` / `\ir` belong to it (listed, guarded), and finding them takes
 * the SQL reader and the hashed scan of plan.ts.
 */

/** One environment's files, in run order, what they include, and how many look like development or test data in a production environment. */
export interface EnvironmentListing {
  environment: string;
  repository: string;
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

/** Checks one environment (`only`) or all: missing folders, no files, production guard (included files too). */
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
