import { localTarget } from '../server/managed.js';
import { DbfastError } from '../errors.js';
import { withClient } from '../pg/client.js';
import { withAdvisoryLock } from '../pg/lock.js';
import type { DbfastConfig } from '../config/types.js';
import { dropDatabase } from '../pg/catalog.js';
import { buildLockKey } from './names.js';
import { projectTemplates, readDbfastDatabases, type DbfastDatabase } from './list.js';
import { reapStale } from '../pool/shelf.js';

export interface DropOptions {
  config: DbfastConfig;
  /** Databases to drop; each must be one dbfast made. */
  names?: readonly string[] | undefined;
  /** Also drop every clone of this config's templates. */
  allClones?: boolean | undefined;
  /** Also drop what pools of this config's templates left behind: leases of processes that are gone, half-made and stale ready databases. */
  stale?: boolean | undefined;
}

export interface DropResult {
  dropped: Array<{ name: string; kind: DbfastDatabase['kind']; reason?: string }>;
}

/**
 * `dbfast drop`: only databases that carry dbfast's marker. Every name is checked before
 * anything is dropped, so a typo or a foreign name drops nothing at all.
 */
export async function drop(options: DropOptions): Promise<DropResult> {
  const names = [...new Set(options.names ?? [])];
  if (names.length === 0 && !options.allClones && !options.stale) {
    throw new DbfastError('USAGE', 'nothing to drop: name databases or pass --all-clones or --stale', { hint: 'See `dbfast list` for the databases dbfast made.' });
  }
  return withClient(await localTarget(options.config), async (client) => {
    const ours = await readDbfastDatabases(client, options.config);
    const byName = new Map(ours.map((database) => [database.name, database]));
    const refused: string[] = [];
    const missing: string[] = [];
    if (names.length > 0) {
      const found = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1::text[])', [names]);
      const existing = new Set(found.rows.map((row) => row.datname));
      for (const name of names) {
        if (!existing.has(name)) missing.push(name);
        else if (!byName.has(name)) refused.push(name);
      }
    }
    if (refused.length > 0) {
      throw new DbfastError('NOT_MADE_BY_DBFAST', `refusing to drop ${refused.map((name) => `"${name}"`).join(', ')}: dbfast did not make ${refused.length === 1 ? 'it' : 'them'} (no dbfast marker); nothing was dropped`, {
        hint: 'dbfast only drops its own templates and clones (see `dbfast list`); drop other databases with your usual tools.',
        details: { refused },
      });
    }
    if (missing.length > 0) {
      throw new DbfastError('DATABASE_NOT_FOUND', `no database named ${missing.map((name) => `"${name}"`).join(', ')}; nothing was dropped`, {
        hint: 'See `dbfast list` for the databases dbfast made.',
        details: { missing },
      });
    }
    const targets = names.map((name) => byName.get(name) as DbfastDatabase);
    if (options.allClones) {
      for (const database of ours) if (database.kind === 'clone' && database.project && !names.includes(database.name)) targets.push(database);
    }
    const dropped: DropResult['dropped'] = [];
    for (const database of targets) {
      // A template is dropped under its build lock so a build running right now is not cut short.
      if (database.kind === 'template') await withAdvisoryLock(client, buildLockKey(database.name), () => dropDatabase(client, database.name));
      else await dropDatabase(client, database.name);
      dropped.push({ name: database.name, kind: database.kind });
    }
    if (options.stale) {
      for (const leftover of await reapStale(client, [...projectTemplates(options.config)])) {
        if (!dropped.some((entry) => entry.name === leftover.name)) dropped.push({ name: leftover.name, kind: 'pool', reason: leftover.reason });
      }
    }
    return { dropped };
  });
}
