import { assertProductionSafe, filterFiles, findEnvironment } from '../project/filter.js';
import { scanRepository } from '../project/scan.js';
import type { DbfastConfig } from '../config/types.js';
import { cacheFilePath, hashFiles, type HashStats } from '../project/hashcache.js';
import { planLayers, type Layer } from './layers.js';
import { filterConfigHash } from './manifest.js';
import { templateDatabaseName } from './names.js';

export interface PlannedFile {
  relativePath: string;
  absolutePath: string;
  sha256: string;
}

/** One layer of an environment's plan. */
export type PlannedLayer = Layer<PlannedFile>;

/** What a template for one environment must contain: its files (in run order), filter and layers. */
export interface EnvironmentPlan {
  environment: string;
  /** The environment's template: its last layer's, what seed clones. */
  template: string;
  files: PlannedFile[];
  filterHash: string;
  /** At least one; the last one's template is `template`. */
  layers: PlannedLayer[];
}

/** Every SQL file of the repository with its content hash (cached by stat). */
export async function scanAndHash(config: DbfastConfig): Promise<{ files: PlannedFile[]; stats: HashStats }> {
  const scanned = await scanRepository(config.repository.path);
  const { hashes, stats } = await hashFiles(scanned, cacheFilePath(config.rootDir, config.repository.path), config.repository.path);
  const files = scanned.map((file, index) => ({
    relativePath: file.relativePath,
    absolutePath: file.absolutePath,
    sha256: hashes[index] as string,
  }));
  return { files, stats };
}

/**
 * One environment's plan from an already hashed scan. Refuses seed data in production unless
 * `guard` is false (status reports the violation instead of stopping at it).
 */
export function planEnvironment(config: DbfastConfig, name: string, all: readonly PlannedFile[], guard = true): EnvironmentPlan {
  const environment = findEnvironment(config, name);
  const template = templateDatabaseName(config, environment.name);
  const files = filterFiles(all, environment);
  if (guard) assertProductionSafe(config, environment, files);
  const layers = planLayers(environment, files, config.database.templateName, template);
  return { environment: environment.name, template, files, filterHash: filterConfigHash(environment), layers };
}

/** The production guard's complaint about a plan, or null when it has none. */
export function guardProblem(config: DbfastConfig, plan: EnvironmentPlan): string | null {
  try {
    assertProductionSafe(config, findEnvironment(config, plan.environment), plan.files);
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
