import { copyFileSync, constants, existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE_NAME, parseToml, validateConfigFile } from '../config/load.js';
import { resolveConfig } from '../config/resolve.js';
import { formatProblem, maxTemplateNameBytes, templateNameFitProblem, templateNameProblem } from '../config/rules.js';
import { assertProductionSafe, filterFiles } from './filter.js';
import { DbfastError, isDbfastError } from '../errors.js';
import { isConnectionUri, parseConninfo, secretsIn } from '../pg/conninfo.js';
import { scanRepository } from './scan.js';
import { detectRepository, type DetectedFolder } from './init-detect.js';
import { ignoreDbfastFolder, type GitignoreChange } from './gitignore.js';
import { joinProposals, repositoryNameFor, type InitRepository } from './init-multi.js';
import { proposeEnvironments, type Proposal, type ProposedEnvironment } from './init-propose.js';
import { renderConfig } from './init-render.js';
import type { IncludeFinder } from './hashcache.js';
import { reachedOnlyThroughIncludes } from './include-graph.js';
import type { ScannedFile } from './scan.js';

export interface InitOptions {
  /** Where dbfast.toml is written (the project folder). Default: process.cwd(). */
  cwd?: string;
  /** Folder to look for SQL in, relative to cwd. Default: cwd. */
  repoDir?: string;
  /** Several folders (`--repo-dir` more than once): one `[[repositories]]` table each, in this order. */
  repoDirs?: string[] | undefined;
  templateName?: string;
  databaseUrl?: string;
  /** Overwrite an existing dbfast.toml. */
  force?: boolean;
}

export interface InitResult {
  configPath: string;
  /** Absolute repository folder, and as written in the file (relative to it). */
  repositoryPath: string;
  repositoryRelative: string;
  /** With several repositories: each one's name, folder as written, and .sql file count, in run order. */
  repositories: Array<{ name: string; path: string; files: number }>;
  templateName: string;
  folders: DetectedFolder[];
  files: number;
  environments: Record<string, ProposedEnvironment>;
  /** Things the user should know: files left out of production, other SQL folders found. */
  notes: string[];
  overwritten: boolean;
  /** Where the replaced dbfast.toml was kept (`--force` over an existing file), else null. */
  previousConfigCopy: string | null;
  /** `.dbfast/` (local backups: dumps of databases) added to the project's .gitignore. */
  gitignore: GitignoreChange;
}
/** Folder names that say nothing about the project; the template is named after the next one up. */
const GENERIC_FOLDERS = new Set(['db', 'sql', 'database', 'databases', 'schema', 'migrations', 'postgres', 'postgresql']);

function sanitize(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const prefixed = /^\d/.test(cleaned) ? `db_${cleaned}` : cleaned;
  return prefixed.slice(0, 40).replace(/_+$/, '');
}

/** A template name from the project folder's name (else the repository's), made of identifier characters. */
export function deriveTemplateName(configDir: string, repositoryPath: string): string {
  for (const dir of [configDir, repositoryPath, path.dirname(repositoryPath)]) {
    const base = path.basename(dir);
    if (GENERIC_FOLDERS.has(base.toLowerCase())) continue;
    const name = sanitize(base);
    if (name) return name;
  }
  return 'dbfast';
}

/** `name` cut (at a character, trailing "_" dropped) so that every environment's template name fits. */
export function fitTemplateName(name: string, environments: readonly string[]): string {
  const fitted = name.slice(0, maxTemplateNameBytes(environments)).replace(/_+$/, '');
  return fitted === '' ? 'dbfast' : fitted;
}

/** The same rule as for database.template_name in dbfast.toml (config/rules.ts). */
function checkTemplateName(name: string): string {
  const problem = templateNameProblem(name, '--template-name');
  if (problem) throw new DbfastError('TEMPLATE_NAME_INVALID', formatProblem(problem), { hint: 'Use 1 to 40 letters, digits and underscores, starting with a letter or underscore (e.g. shop).' });
  return name;
}

function checkDatabaseUrl(url: string): string {
  let secrets: string[];
  try {
    if (!isConnectionUri(url)) throw new Error('not a URL');
    secrets = secretsIn(parseConninfo(url, '--database-url'));
  } catch (error) {
    throw new DbfastError('DATABASE_URL_INVALID', isDbfastError(error) ? error.message : '--database-url is not a postgresql:// URL', {
      hint: 'Pass e.g. --database-url postgresql://postgres@localhost:5432/postgres.',
    });
  }
  if (secrets.length > 0) {
    throw new DbfastError('PASSWORD_IN_CONFIG', `--database-url contains a secret (${secrets.join(', ')}), and dbfast.toml must never hold one`, { hint: 'Pass the URL without it; then set password_env in [database] (e.g. PGPASSWORD) or use ~/.pgpass.' });
  }
  return url;
}

/**
 * Keeps the file `--force` replaces: a copy next to it named after the time (never over another
 * copy), so remotes and edits in it are not lost.
 */
function keepPreviousConfig(configPath: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  for (let attempt = 0; ; attempt++) {
    const copy = `${configPath}.${stamp}${attempt === 0 ? '' : `-${attempt}`}.bak`;
    try {
      copyFileSync(configPath, copy, constants.COPYFILE_EXCL);
      return copy;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DbfastError('CONFIG_UNREADABLE', `cannot keep a copy of ${configPath} before replacing it: ${(error as Error).message}`, {
          hint: 'Nothing was changed. Check the folder is writable, or move the file away yourself.',
          cause: error,
        });
      }
    }
  }
}

/**
 * How init finds the includes of the files under a folder (`root`: includes may not leave it).
 * Passed in by the caller: telling an include from the same bytes in a string or COPY data takes
 * the SQL reader (src/sql), which lives above this module.
 */
export type IncludeScanner = (root: string) => IncludeFinder;

/**
 * The files under `searched` that other files include, so init lists neither them nor folders
 * holding only them (they would run twice). A file whose includes cannot be read (a name built
 * from a variable, one leaving the folder) counts as including nothing: the build names it.
 */
async function includeTargets(files: readonly ScannedFile[], find: IncludeFinder): Promise<string[]> {
  const linked = await Promise.all(files.map(async (file) => ({ relativePath: file.relativePath, includes: await find(file).catch(() => []) })));
  return reachedOnlyThroughIncludes(linked).map((file) => file.relativePath);
}

function nothingToWorkWith(dir: string): DbfastError {
  return new DbfastError('NO_SQL_FILES', `no .sql files in ${dir} or the folders below it`, { hint: 'dbfast expects a folder of numbered SQL folders that run in order, e.g. db/0_schema/010_tables.sql, ' +
      'db/1_seed_common/010_products.sql, db/6_migration/001_add_column.sql. ' +
      'Run `dbfast init` in the folder above them, or pass --repo-dir PATH.' });
}

/**
 * Writes a commented dbfast.toml into `cwd` for the SQL found in `repoDir`: local gets every
 * folder, production only schema and migration folders. Checks everything before writing,
 * and checks that the text it writes loads and passes the production guard.
 */
export async function initProject(options: InitOptions, findIncludes: IncludeScanner): Promise<InitResult> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const configPath = path.join(cwd, CONFIG_FILE_NAME);
  const exists = existsSync(configPath);
  if (exists && !options.force) {
    throw new DbfastError('CONFIG_EXISTS', `${configPath} already exists`, { hint: 'Edit it, or run `dbfast init --force` to replace it.' });
  }
  const templateName = options.templateName === undefined ? undefined : checkTemplateName(options.templateName);
  const databaseUrl = options.databaseUrl === undefined ? undefined : checkDatabaseUrl(options.databaseUrl);
  const several = (options.repoDirs?.length ?? 0) > 1;
  const detected: InitRepository[] = [];
  const notes: string[] = [];
  const taken = new Set<string>();
  for (const dir of several ? (options.repoDirs as string[]) : [options.repoDir ?? '.']) {
    const searched = path.resolve(cwd, dir);
    if (!(statSync(searched, { throwIfNoEntry: false })?.isDirectory() ?? false)) {
      throw new DbfastError('REPOSITORY_NOT_FOUND', `folder ${searched} does not exist`, { hint: 'Pass --repo-dir with the folder that holds your SQL folders.' });
    }
    const scanned = await scanRepository(searched);
    const found = detectRepository(scanned, await includeTargets(scanned, findIncludes(searched)));
    if (!found) throw nothingToWorkWith(searched);
    const folder = path.join(searched, found.relativeDir);
    const name = repositoryNameFor(folder, taken);
    taken.add(name);
    detected.push({ name, path: folder, relative: path.relative(cwd, folder).split(path.sep).join('/') || '.', detected: found, proposal: proposeEnvironments(found) });
    if (found.alternatives.length > 0) {
      const others = found.alternatives.map((alternative) => path.join(searched, alternative)).join(', ');
      notes.push(`also found SQL folders in ${others}; pass --repo-dir to use one of those instead`);
    }
  }
  const first = detected[0] as InitRepository;
  const repository = first.detected;
  const repositoryPath = first.path;
  const repositoryRelative = first.relative;
  const proposal: Proposal = several ? joinProposals(detected) : first.proposal;
  notes.unshift(...proposal.notes);
  const environments = Object.keys(proposal.environments);
  const tooLong = templateName === undefined ? undefined : templateNameFitProblem(templateName, environments, '--template-name');
  if (tooLong) throw new DbfastError('TEMPLATE_NAME_INVALID', formatProblem(tooLong), { hint: `Pass a --template-name of at most ${maxTemplateNameBytes(environments)} characters.` });
  const text = renderConfig({
    repositoryPath: repositoryRelative,
    // A long folder name is cut so that <template_name>_<environment> fits for every environment written.
    templateName: templateName ?? fitTemplateName(deriveTemplateName(cwd, repositoryPath), environments),
    databaseUrl,
    repository,
    proposal,
    repositories: several ? detected : undefined,
  });

  // The file must load as written and keep production clean; a failure here is a dbfast bug.
  const config = resolveConfig(validateConfigFile(parseToml(text, configPath), configPath, {}), configPath, {});
  const files = several
    ? detected.flatMap((one) => one.detected.files.map((relativePath) => ({ relativePath: `${one.name}:${relativePath}`, repository: { name: one.name } })))
    : repository.files.map((relativePath) => ({ relativePath }));
  for (const environment of Object.values(config.environments)) {
    assertProductionSafe(config, environment, filterFiles(files, environment));
  }

  let previousConfigCopy: string | null = null;
  if (exists) {
    previousConfigCopy = keepPreviousConfig(configPath);
    // Written beside it and renamed over it: the old file stays whole until the new one is.
    const temp = `${configPath}.${process.pid}.tmp`;
    writeFileSync(temp, text, { flag: 'w' });
    renameSync(temp, configPath);
  } else {
    writeFileSync(configPath, text, { flag: 'wx' });
  }
  const gitignore = ignoreDbfastFolder(cwd);
  return {
    gitignore,
    configPath,
    repositoryPath,
    repositoryRelative,
    repositories: several ? detected.map((one) => ({ name: one.name, path: one.relative, files: one.detected.files.length })) : [],
    templateName: config.database.templateName,
    folders: detected.flatMap((one) => one.detected.folders),
    files: files.length,
    environments: proposal.environments,
    notes,
    overwritten: exists,
    previousConfigCopy,
  };
}
