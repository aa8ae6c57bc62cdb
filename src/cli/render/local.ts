import path from 'node:path';
import type { BuildResult, DropResult, EnvironmentListing, EnvironmentSummary, InitResult, ListResult, SeedResult, StatusResult, ValidationReport } from '../../index.js';
import { bytes, duration, plural, table, type Style } from './format.js';

/** Human renderings of the local commands: init, environments, validate-env, build, seed, status, list, drop. */

export function renderInit(result: InitResult): string {
  const width = Math.max(...Object.keys(result.environments).map((name) => name.length), 'repository'.length);
  const row = (label: string, text: string): string => `  ${`${label}:`.padEnd(width + 2)}${text}`;
  return [
    result.previousConfigCopy ? `replaced ${result.configPath} (the previous file is kept as ${result.previousConfigCopy})` : `wrote ${result.configPath}`,
    ...(result.repositories.length > 0
      ? result.repositories.map((repository) => row('repository', `${repository.name} = ${repository.path} (${repository.files} .sql file${repository.files === 1 ? '' : 's'})`))
      : [row('repository', `${result.repositoryRelative} (${result.files} .sql files in ${result.folders.length} folders)`)]),
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
  const { environment, repositories, files, included } = shown;
  const total = files.reduce((sum, file) => sum + file.size, 0);
  // Named repositories run in the order listed: `core (../core-sql), app (app-sql)`.
  const where = repositories.map((repository) => (repository.name === undefined ? path.relative(process.cwd(), repository.path) || '.' : `${repository.name} (${path.relative(process.cwd(), repository.path) || '.'})`)).join(', ');
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

/** One row per layer, under the build's line, when the environment has more than one. */
function layerLines(style: Style, result: BuildResult): string[] {
  if (result.layers.length < 2) return [];
  const rows = result.layers.map((layer) => {
    if (layer.state === 'reused') return [layer.label, 'reused', `(${layer.template})`];
    const later = layer.templateLater ? ', its layer template follows in the background' : '';
    return [layer.label, 'rebuilt', `${plural(layer.files, 'file')} in ${duration(layer.durationMs)}${later}`];
  });
  return table(style, ['LAYER', '', ''], rows).split('\n').slice(1).map((line) => `  ${line}`);
}

export function renderBuild(style: Style, result: BuildResult): string {
  const files = plural(result.files, 'file');
  if (result.rebuilt) return [`built ${result.template} (${result.environment}, ${files}) in ${duration(result.durationMs)}`, ...layerLines(style, result)].join('\n');
  if (result.reused) return `${result.template} was just built by another dbfast process (${files}); using it`;
  return `${result.template} is fresh (${files}); nothing to do (--force rebuilds it)`;
}

/** The line `seed` says on stderr (its stdout is the URL alone, for `$(dbfast seed ...)`). */
export function seedMessage(result: SeedResult): string {
  // The time of the whole seed (what the user waited), with the rebuild's share of it apart.
  const how = result.rebuilt ? ` (template rebuilt first: ${duration(result.rebuildMs)})` : '';
  if (result.fromPool) return `took ${result.database} ready-made from the pool of ${result.template} in ${duration(result.durationMs)}${how}`;
  return `created ${result.database} from ${result.template} in ${duration(result.durationMs)}${how}`;
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
      // The server's setup the template was built on: named apart, since those files are no template files.
      const setup = entry.clusterSetup;
      for (const [what, files] of setup ? ([['added   ', setup.added], ['modified', setup.modified], ['removed ', setup.removed], ['missing ', setup.missing]] as const) : []) {
        for (const file of files) lines.push(`  cluster setup ${what}  ${file}`);
      }
      if (entry.filterChanged) lines.push(`  the environment's include/exclude settings changed`);
      if (entry.orderChanged) lines.push(`  the run order, layers or variables changed (same files)`);
      if (entry.settingsChanged) lines.push(`  the template's database settings differ from those it was built with`);
    }
    // What every clone of the template is given (PostgreSQL's CREATE DATABASE ... TEMPLATE copies none of it).
    for (const setting of entry.settings) lines.push(`  setting   ${setting.role === null ? '' : `role ${setting.role}: `}${setting.name} = ${setting.value}`);
    if (entry.layers.length > 1 && entry.state !== 'missing') {
      const rows = entry.layers.map((layer) => [
        layer.label,
        style.status(layer.state),
        layer.template,
        layer.sharedWith.length > 0 ? `shared with ${layer.sharedWith.join(', ')}` : '',
      ]);
      lines.push('  layers:', ...table(style, ['', '', '', ''], rows).split('\n').slice(1).map((line) => `    ${line}`));
    }
  }
  if (!result.upToDate) lines.push('run `dbfast build` (or `dbfast seed`, which builds first) to bring templates up to date');
  return lines.join('\n');
}

type Listed = ListResult['databases'][number];

/** Templates first, each followed by the layer templates it stands on; then spares, pooled databases, clones and leftovers. */
function listOrder(databases: readonly Listed[]): Array<{ database: Listed; indent: boolean }> {
  const out: Array<{ database: Listed; indent: boolean }> = [];
  const placed = new Set<string>();
  const layers = new Map(databases.filter((database) => database.kind === 'layer').map((database) => [database.name, database]));
  for (const template of databases.filter((database) => database.kind === 'template')) {
    out.push({ database: template, indent: false });
    for (const name of template.layers ?? []) {
      const layer = layers.get(name);
      if (!layer || placed.has(name)) continue;
      placed.add(name);
      out.push({ database: layer, indent: true });
    }
  }
  for (const kind of ['layer', 'spare', 'pool', 'clone', 'leftover'] as const) {
    for (const database of databases) if (database.kind === kind && !placed.has(database.name)) out.push({ database, indent: false });
  }
  return out;
}

export function renderList(style: Style, result: ListResult): string {
  if (result.databases.length === 0) return 'no databases made by dbfast on this server';
  const environmentOf = new Map(result.databases.map((database) => [database.name, database.environment]));
  const rows = listOrder(result.databases).map(({ database, indent }) => [
    `${indent ? '  ' : ''}${database.name}`,
    database.kind,
    database.kind === 'layer' ? [...new Set((database.layerOf ?? []).map((name) => environmentOf.get(name) ?? name))].join(', ') : (database.environment ?? ''),
    database.kind === 'clone' || database.kind === 'spare' || database.kind === 'pool' ? (database.template ?? '') : '',
    database.sizeBytes === null ? '?' : bytes(database.sizeBytes),
    database.createdAt ?? '',
  ]);
  return table(style, ['NAME', 'KIND', 'ENV', 'FROM', 'SIZE', 'CREATED'], rows);
}

export function renderDrop(result: DropResult): string {
  const lines = result.dropped.map((entry) => `dropped ${entry.kind} ${entry.name}${entry.reason ? ` (${entry.reason})` : ''}`);
  if (lines.length === 0) lines.push('nothing to drop');
  for (const entry of result.kept) lines.push(`kept pool ${entry.name} (${entry.reason}; \`dbfast drop --stale\` drops it once that process is done)`);
  return lines.join('\n');
}
