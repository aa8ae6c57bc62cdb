import type { DbfastConfig, EnvironmentConfig } from '../config/types.js';
import { filterFiles, guardViolations, isProductionEnvironment, type FilterableFile } from './filter.js';

export type EnvironmentProblemKind = 'missing_directory' | 'no_files' | 'production_guard';

export interface EnvironmentProblem {
  kind: EnvironmentProblemKind;
  message: string;
  /** The folder or file the problem is about, relative to repository.path. */
  path?: string;
}

export interface EnvironmentCheck {
  name: string;
  /** How many files the environment gets. */
  files: number;
  production: boolean;
  problems: EnvironmentProblem[];
}

/**
 * Checks one environment against the scanned files. Pure: the caller says which
 * include_directories exist (a folder may exist and hold no SQL, which is a different problem).
 */
export function checkEnvironment(
  config: DbfastConfig,
  environment: EnvironmentConfig,
  files: readonly FilterableFile[],
  directoryExists: (relativeDir: string) => boolean,
  /** What the environment's files reach through `\i` / `\ir` (guarded like its own files). */
  includedBy: (selected: readonly FilterableFile[]) => readonly FilterableFile[] = () => [],
): EnvironmentCheck {
  const problems: EnvironmentProblem[] = [];
  for (const dir of environment.include_directories ?? []) {
    if (!directoryExists(dir)) {
      problems.push({
        kind: 'missing_directory',
        path: dir,
        message: `include_directories names "${dir}", which does not exist under ${config.repositories.length === 1 ? config.repository.path : `any of ${config.repositories.map((repository) => repository.path).join(', ')}`}`,
      });
    }
  }
  const selected = filterFiles(files, environment);
  if (selected.length === 0) {
    problems.push({ kind: 'no_files', message: 'no .sql file matches this environment' });
  }
  const production = isProductionEnvironment(config, environment.name);
  if (production && environment.allow_seed_data !== true) {
    for (const violation of guardViolations([...selected, ...includedBy(selected)])) {
      const through = violation.includedFrom ? ` (included from ${violation.includedFrom})` : '';
      problems.push({
        kind: 'production_guard',
        path: violation.relativePath,
        message: `${violation.relativePath} looks like ${violation.word} data, which a production environment must not get${through}`,
      });
    }
  }
  return { name: environment.name, files: selected.length, production, problems };
}
