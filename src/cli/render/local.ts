import path from 'node:path';
import type { BuildResult, DropResult, EnvironmentListing, EnvironmentSummary, InitResult, ListResult, SeedResult, StatusResult, ValidationReport } from '../../index.js';
import { bytes, duration, plural, table, type Style } from './format.js';

/** Human renderings of the local commands: init, environments, validate-env, build, seed, status, list, drop. */

export function renderInit(result: InitResult): string {
  const width = Math.max(...Object.keys(result.environments).map((name) => name.length), 'repository'.length);
  const row = (label: string, text: string): string => `  ${`${label}:`.padEnd(width + 2)}${text}`;
  return [
    `${result.overwritten ? 'replaced' : 'wrote'} ${result.configPath}`,
    row('repository', `${result.repositoryRelative} (${result.files} .sql files in ${result.folders.length} folders)`),
    row('template', result.templateName),
    row('.gitignore', result.gitignore.action === 'present' ? 'already ignores .dbfast/' : `${result.gitignore.action === 'created' ? 'created, ignoring' : 'now ignores'} .dbfast/ (local backups)`),
    ...Object.entries(result.environments).map(([name, env]) => row(name, `${env.include_directories.join(', ') || '(no folders)'} (${env.files} files)`)),
    'next: `dbfast environments show local` lists the files in run order; `dbfast validate-env` checks the environments.',
  ].join('\n');
}

export function renderEnvironments(style: Style, configPath: string, summaries: EnvironmentSummary[]): string {
  if (summaries.length === 0) return `no environments in ${configPath}`;
  return table(
    style,
    ['ENVIRONMENT', 'FILES', 'PRODUCTION', 'DESCRIPTION'],
    summaries.map((env) => [env.name, String(env.files), env.production ? 'yes' : '', env.description ?? '']),
    { alignRight: [1] },
  );
}

export function renderEnvironmentFiles(style: Style, shown: EnvironmentListing): string {
  const { environment, repository, files, included } = shown;
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const where = path.relative(process.cwd(), repository) || '.';
  const header = `environment ${environment}: ${plural(files.length, 'file')}, ${bytes(total)}, in ${where}`;
  if (files.length === 0) return `${header}\n(no .sql file matches this environment)`;
  const rows = files.map((file, index) => [String(index + 1), file.relativePath, bytes(file.size)]);
  const listed = `${header}\n${table(style, ['#', 'FILE', 'SIZE'], rows, { alignRight: [0, 2] })}`;
  if (included.length === 0) return listed;
  return `${listed}\nincluded by those files (\\i / \\ir):\n${table(style, ['FILE', 'INCLUDED FROM'], included.map((file) => [file.relativePath, file.includedFrom]))}`;
}

export function renderValidateEnv(style: Style, report: ValidationReport): string {
  return report.environments
    .map((env) => {
      const head = `${env.name}${env.production && env.name !== 'production' ? ' (production)' : ''}: ${plural(env.files, 'file')}, `;
      if (env.problems.length === 0) return `${head}${style.good('ok')}`;
      return [`${head}${style.bad(plural(env.problems.length, 'problem'))}`, ...env.problems.map((problem) => `  - ${problem.message}`)].join('\n');
    })
    .join('\n');
}

export function renderBuild(result: BuildResult): string {
  const files = plural(result.files, 'file');
  if (result.rebuilt) return `built ${result.template} (${result.environment}, ${files}) in ${duration(result.durationMs)}`;
  if (result.reused) return `${result.template} was just built by another dbfast process (${files}); using it`;
  return `${result.template} is fresh (${files}); nothing to do (--force rebuilds it)`;
}

/** The line `seed` says on stderr (its stdout is the URL alone, for `$(dbfast seed ...)`). */
export function seedMessage(result: SeedResult): string {
  const how = result.rebuilt ? ' (template rebuilt first)' : '';
  return `created ${result.database} from ${result.template} in ${duration(result.cloneMs)}${how}`;
}

export function renderStatus(style: Style, result: StatusResult): string {
  const lines: string[] = [];
  for (const entry of result.environments) {
    const built = entry.builtAt ? `, built ${entry.builtAt}` : '';
    lines.push(`${entry.environment}: ${style.status(entry.state)} (${entry.template}, ${plural(entry.fileCount, 'file')}${built})`);
    if (entry.problem) lines.push(`  ${entry.problem}`);
    if (entry.state === 'stale') {
      for (const file of entry.added) lines.push(`  added     ${file}`);
      for (const file of entry.modified) lines.push(`  modified  ${file}`);
      for (const file of entry.removed) lines.push(`  removed   ${file}`);
      if (entry.filterChanged) lines.push(`  the environment's include/exclude settings changed`);
    }
  }
  if (!result.upToDate) lines.push('run `dbfast build` (or `dbfast seed`, which builds first) to bring templates up to date');
  return lines.join('\n');
}

export function renderList(style: Style, result: ListResult): string {
  if (result.databases.length === 0) return 'no databases made by dbfast on this server';
  const rows = result.databases.map((database) => [
    database.name,
    database.kind,
    database.environment ?? '',
    database.kind === 'clone' ? (database.template ?? '') : '',
    database.sizeBytes === null ? '?' : bytes(database.sizeBytes),
    database.createdAt ?? '',
  ]);
  return table(style, ['NAME', 'KIND', 'ENV', 'FROM', 'SIZE', 'CREATED'], rows);
}

export function renderDrop(result: DropResult): string {
  if (result.dropped.length === 0) return 'nothing to drop';
  return result.dropped.map((entry) => `dropped ${entry.kind} ${entry.name}`).join('\n');
}
