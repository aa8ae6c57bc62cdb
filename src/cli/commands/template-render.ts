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

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function layerLines(result: BuildResult): string[] {
  if (result.layers.length < 2) return [];
  const rows = result.layers.map((layer) => {
    if (layer.state === 'reused') return [layer.label, 'reused', `(${layer.template})`];
    const later = layer.templateLater ? ', its layer template follows in the background' : '';
    return [layer.label, 'rebuilt', `${plural(layer.files, 'file')} in ${ms(layer.durationMs)}${later}`];
  });
  return table(['LAYER', '', ''], rows).split('\n').slice(1).map((line) => `  ${line}`);
}

export function renderBuild(result: BuildResult): string {
  const files = plural(result.files, 'file');
  if (result.rebuilt) return [`built ${result.template} (${result.environment}, ${files}) in ${ms(result.durationMs)}`, ...layerLines(result)].join('\n');
  if (result.reused) return `${result.template} was just built by another dbfast process (${files}); using it`;
  return `${result.template} is fresh (${files}); nothing to do (--force rebuilds it)`;
}

export function seedMessage(result: SeedResult): string {
  const how = result.rebuilt ? ' (template rebuilt first)' : '';
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
    if (entry.layers.length > 1 && entry.state !== 'missing') {
      const rows = entry.layers.map((layer) => [
        layer.label,
        layer.state,
        layer.template,
        layer.sharedWith.length > 0 ? `shared with ${layer.sharedWith.join(', ')}` : '',
      ]);
      lines.push('  layers:', ...table(['', '', '', ''], rows).split('\n').slice(1).map((line) => `    ${line}`));
    }
  }
  if (!result.upToDate) lines.push('run `dbfast build` (or `dbfast seed`, which builds first) to bring templates up to date');
  return lines.join('\n');
}

type Listed = ListResult['databases'][number];

/** Templates first, each followed by the layer templates it stands on; then spares, clones and leftovers. */
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
  for (const kind of ['layer', 'spare', 'clone', 'leftover'] as const) {
    for (const database of databases) if (database.kind === kind && !placed.has(database.name)) out.push({ database, indent: false });
  }
  return out;
}

export function renderList(result: ListResult): string {
  if (result.databases.length === 0) return 'no databases made by dbfast on this server';
  const environmentOf = new Map(result.databases.map((database) => [database.name, database.environment]));
  const rows = listOrder(result.databases).map(({ database, indent }) => [
    `${indent ? '  ' : ''}${database.name}`,
    database.kind,
    database.kind === 'layer' ? [...new Set((database.layerOf ?? []).map((name) => environmentOf.get(name) ?? name))].join(', ') : (database.environment ?? ''),
    database.kind === 'clone' || database.kind === 'spare' ? (database.template ?? '') : '',
    database.sizeBytes === null ? '?' : formatBytes(database.sizeBytes),
    database.createdAt ?? '',
  ]);
  return table(['NAME', 'KIND', 'ENV', 'FROM', 'SIZE', 'CREATED'], rows);
}

export function renderDrop(result: DropResult): string {
  if (result.dropped.length === 0) return 'nothing to drop';
  return result.dropped.map((entry) => `dropped ${entry.kind} ${entry.name}`).join('\n');
}
