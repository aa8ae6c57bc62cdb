import { filterFiles, guardedWord, inDirectory } from './filter.js';
import type { DetectedRepository } from './init-detect.js';

/** An environment as `dbfast init` writes it, with the count of files it selects. */
export interface ProposedEnvironment {
  include_directories: string[];
  include_files?: string[];
  /** Folders inside included ones whose files other files include (`\i` / `\ir`). */
  exclude_directories?: string[];
  exclude_files?: string[];
  files: number;
}

export interface Proposal {
  environments: Record<string, ProposedEnvironment>;
  /** Why an environment is missing or narrower than its folders suggest. */
  notes: string[];
}

/** Root-level SQL files: `*` never crosses a `/`, so this matches only files directly in the repository. */
function rootFilesGlob(rootFiles: readonly string[]): string {
  // The scanner takes `.SQL` too; globs are case-sensitive.
  return rootFiles.every((file) => file.endsWith('.sql')) ? '*.sql' : '*.[sS][qQ][lL]';
}

/** A path as a glob that matches only itself (file names may contain `[`, `*`, `(`...). */
export function literalGlob(file: string): string {
  return file.replace(/[\\*?[\]{}()!+@|]/g, '\\$&');
}

/**
 * What `environment` must also exclude so that files other files include (`included`) are not
 * run on their own too: the highest folder below a selected one that holds nothing but such
 * files, else the file itself. `runs`: the files that do run.
 */
function withoutIncluded(environment: Omit<ProposedEnvironment, 'files'>, runs: readonly string[], included: readonly string[]): Omit<ProposedEnvironment, 'files'> {
  const selected = filterFiles(included.map((relativePath) => ({ relativePath })), { name: 'proposal', ...environment }).map((file) => file.relativePath);
  if (selected.length === 0) return environment;
  const folders: string[] = [];
  const files: string[] = [];
  for (const file of selected) {
    const segments = file.split('/').slice(0, -1);
    // From the top down: the first folder no running file is in (never a top-level folder: that is what was included).
    let folder: string | undefined;
    for (let depth = 2; depth <= segments.length && folder === undefined; depth++) {
      const candidate = segments.slice(0, depth).join('/');
      if (!runs.some((run) => inDirectory(run, candidate))) folder = candidate;
    }
    if (folder === undefined) files.push(literalGlob(file));
    else if (!folders.includes(folder)) folders.push(folder);
  }
  return {
    ...environment,
    ...(folders.length > 0 ? { exclude_directories: [...(environment.exclude_directories ?? []), ...folders] } : {}),
    ...(files.length > 0 ? { exclude_files: [...(environment.exclude_files ?? []), ...files] } : {}),
  };
}

function withCount(environment: Omit<ProposedEnvironment, 'files'>, files: readonly string[]): ProposedEnvironment {
  const selected = filterFiles(
    files.map((relativePath) => ({ relativePath })),
    { name: 'proposal', ...environment },
  );
  return { ...environment, files: selected.length };
}

/**
 * local gets every folder found; production only folders without seed/test/fixture/dev in
 * their names, minus single files whose names say they are development or test data, so the
 * written file passes the production guard as it stands.
 */
export function proposeEnvironments(repository: DetectedRepository): Proposal {
  const notes: string[] = [];
  const included = repository.includedOnly;
  if (included.length > 0) {
    notes.push(`left out ${included.length} file${included.length === 1 ? '' : 's'} that other files include (\\i / \\ir), which run where they are included: ${included.join(', ')}`);
  }
  const hasRootFiles = repository.rootFiles.length > 0;
  const local = withoutIncluded(
    {
      include_directories: repository.folders.map((folder) => folder.name),
      ...(hasRootFiles ? { include_files: [rootFilesGlob(repository.rootFiles)] } : {}),
    },
    repository.files,
    included,
  );
  const environments: Record<string, ProposedEnvironment> = { local: withCount(local, repository.files) };

  const safeFolders = repository.folders.filter((folder) => !folder.guardedWord).map((folder) => folder.name);
  const safeRootFiles = repository.rootFiles.filter((file) => !guardedWord(file));
  const production: Omit<ProposedEnvironment, 'files'> = {
    include_directories: safeFolders,
    ...(safeRootFiles.length > 0 ? { include_files: [rootFilesGlob(repository.rootFiles)] } : {}),
  };
  const noProduction = 'no production environment: every folder found looks like seed, test, fixture or dev data';
  // An environment without includes takes everything, so with nothing safe to include there is no production.
  if (safeFolders.length === 0 && safeRootFiles.length === 0) return { environments, notes: [...notes, noProduction] };
  const selected = filterFiles(
    repository.files.map((relativePath) => ({ relativePath })),
    { name: 'production', ...production },
  );
  const excluded = selected.map((file) => file.relativePath).filter((file) => guardedWord(file));
  if (selected.length === excluded.length) return { environments, notes: [...notes, noProduction] };
  if (excluded.length > 0) {
    production.exclude_files = excluded.map(literalGlob);
    notes.push(`production leaves out ${excluded.length} file${excluded.length === 1 ? '' : 's'} whose name looks like development or test data: ${excluded.join(', ')}`);
  }
  environments.production = withCount(withoutIncluded(production, repository.files, included), repository.files);
  return { environments, notes };
}
