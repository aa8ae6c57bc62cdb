import type { FillResult, PoolDrainResult, PoolStatusResult } from '../../index.js';
import { bytes, plural, table, type Style } from './format.js';

/** Human renderings of `dbfast pool status|fill|drain` (ready databases on the local server). */

export function renderPoolStatus(style: Style, result: PoolStatusResult): string {
  const lines = result.environments.map(
    (entry) => `${entry.environment}: ${entry.ready} ready of ${entry.size} (${entry.template})${entry.stale > 0 ? `, ${style.warn(`${entry.stale} stale`)}` : ''}`,
  );
  lines.push(`server: ${plural(result.total, 'pooled database')} of at most ${result.maxClones}${result.making > 0 ? ` (${result.making} being made)` : ''}`);
  if (result.databases.length > 0) {
    lines.push('');
    lines.push(
      table(
        style,
        ['NAME', 'STATE', 'ENV', 'SIZE', 'HELD BY', 'NOTE'],
        result.databases.map((database) => [
          database.name,
          database.state,
          database.environment ?? '',
          database.sizeBytes === null ? '?' : bytes(database.sizeBytes),
          database.heldBy ?? '',
          database.reason ?? '',
        ]),
        { alignRight: [3] },
      ),
    );
  }
  if (result.environments.some((entry) => entry.stale > 0)) lines.push('', 'stale ones are dropped by the next pool, `dbfast pool fill`, `dbfast pool drain` or `dbfast drop --stale`');
  return lines.join('\n');
}

export function renderPoolFill(result: FillResult): string {
  const lines = [`${result.environment}: ${result.ready} ready of ${result.size} (${result.template}); made ${result.created.length}`];
  for (const entry of result.dropped) lines.push(`dropped ${entry.name}: ${entry.reason}`);
  if (result.capped) lines.push('stopped short: the server holds [pool] max_clones pooled databases');
  return lines.join('\n');
}

export function renderPoolDrain(result: PoolDrainResult): string {
  if (result.dropped.length === 0) return 'nothing to drain';
  return result.dropped.map((entry) => `dropped ${entry.name} (${entry.reason})`).join('\n');
}
