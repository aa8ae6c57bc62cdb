import type { BuildResult, DropResult, ListResult, SeedResult, StatusResult } from '../../index.js';
import { formatBytes } from '../output.js';

/** Human renderings of the template commands' results (--json prints the objects themselves). */

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

export function renderBuild(result: BuildResult): string {
  const files = `${result.files} file${result.files === 1 ? '' : 's'}`;
  if (result.rebuilt) return `built ${result.template} (${result.environment}, ${files}) in ${ms(result.durationMs)}`;
  if (result.reused) return `${result.template} was just built by another dbfast process (${files}); using it`;
  return `${result.template} is fresh (${files}); nothing to do (--force rebuilds it)`;
}

export function seedMessage(result: SeedResult): string {
  const how = result.rebuilt ? ' (template rebuilt first)' : '';
  if (result.fromPool) return `took ${result.database} ready-made from the pool of ${result.template} in ${ms(result.cloneMs)}${how}`;
  return `created ${result.database} from ${result.template} in ${ms(result.cloneMs)}${how}`;
}

export function renderStatus(result: StatusResult): string {
  const lines: string[] = [];
  for (const entry of result.environments) {
    const built = entry.builtAt ? `, built ${entry.builtAt}` : '';
    lines.push(`${entry.environment}: ${entry.state} (${entry.template}, ${entry.fileCount} file${entry.fileCount === 1 ? '' : 's'}${built})`);
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

export function renderList(result: ListResult): string {
  if (result.databases.length === 0) return 'no databases made by dbfast on this server';
  const rows = result.databases.map((database) => [
    database.name,
    database.kind,
    database.environment ?? '',
    database.kind === 'clone' || database.kind === 'pool' ? (database.template ?? '') : '',
    database.sizeBytes === null ? '?' : formatBytes(database.sizeBytes),
    database.createdAt ?? '',
  ]);
  return table(['NAME', 'KIND', 'ENV', 'FROM', 'SIZE', 'CREATED'], rows);
}

export function renderDrop(result: DropResult): string {
  if (result.dropped.length === 0) return 'nothing to drop';
  return result.dropped.map((entry) => `dropped ${entry.kind} ${entry.name}${entry.reason ? ` (${entry.reason})` : ''}`).join('\n');
}
