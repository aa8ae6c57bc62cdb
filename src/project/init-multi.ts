import path from 'node:path';
import { REPOSITORY_NAME_PATTERN, qualifiedName } from '../config/repositories.js';
import type { DetectedRepository } from './init-detect.js';
import type { Proposal, ProposedEnvironment } from './init-propose.js';

/**
 * `dbfast init --repo-dir A --repo-dir B`: several SQL repositories in one project. Each is
 * detected and proposed on its own (as one repository would be); the proposals are joined with
 * every folder and glob prefixed by its repository (`core:0_schema`), in the order given.
 */
export interface InitRepository {
  /** Its name in `[[repositories]]` (from its folder's name). */
  name: string;
  /** Absolute folder, and as written in dbfast.toml (relative to it). */
  path: string;
  relative: string;
  detected: DetectedRepository;
  proposal: Proposal;
}

/** A repository name from a folder's name: letters, digits, `_`, `-`, starting with a letter; unique among `taken`. */
export function repositoryNameFor(folder: string, taken: ReadonlySet<string>): string {
  let base = path.basename(folder).replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z]+/, '').slice(0, 56);
  if (!REPOSITORY_NAME_PATTERN.test(base)) base = 'sql';
  let name = base;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
  return name;
}

function qualify(name: string, patterns: readonly string[] | undefined): string[] | undefined {
  return patterns?.map((pattern) => qualifiedName(name, pattern));
}

/** Every repository's environments joined: an environment gets each repository's share of it, prefixed by the repository. */
export function joinProposals(repositories: readonly InitRepository[]): Proposal {
  const environments: Record<string, ProposedEnvironment> = {};
  const notes: string[] = [];
  for (const repository of repositories) {
    for (const [name, own] of Object.entries(repository.proposal.environments)) {
      const joined = (environments[name] ??= { include_directories: [], files: 0 });
      joined.include_directories.push(...(qualify(repository.name, own.include_directories) ?? []));
      const includeFiles = qualify(repository.name, own.include_files);
      if (includeFiles) joined.include_files = [...(joined.include_files ?? []), ...includeFiles];
      const excludeDirectories = qualify(repository.name, own.exclude_directories);
      if (excludeDirectories) joined.exclude_directories = [...(joined.exclude_directories ?? []), ...excludeDirectories];
      const excludeFiles = qualify(repository.name, own.exclude_files);
      if (excludeFiles) joined.exclude_files = [...(joined.exclude_files ?? []), ...excludeFiles];
      joined.files += own.files;
    }
    notes.push(...repository.proposal.notes.map((note) => `${repository.name}: ${note}`));
  }
  return { environments, notes };
}

/** The `[[repositories]]` tables init writes, each with what it found there. */
export function repositoriesBlock(repositories: readonly InitRepository[], summary: (detected: DetectedRepository) => string[]): string[] {
  const lines = ['# The SQL repositories, in the order their files run (every file of the first one,', '# then the next). Files are named NAME:path; patterns below name their repository.'];
  for (const repository of repositories) {
    const count = repository.detected.files.length;
    lines.push(
      '[[repositories]]',
      `name = ${JSON.stringify(repository.name)}`,
      `path = ${JSON.stringify(repository.relative.replaceAll('$', '$$$$'))}   # relative to this file`,
      `# dbfast init found ${count} .sql file${count === 1 ? '' : 's'} there:`,
      ...summary(repository.detected),
      '',
    );
  }
  return lines;
}
