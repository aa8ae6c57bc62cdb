import { localTarget } from '../server/managed.js';
import { DbfastError } from '../errors.js';
import { withClient } from '../pg/client.js';
import { withAdvisoryLock } from '../pg/lock.js';
import type { DbfastConfig } from '../config/types.js';
import { dropDatabase } from '../pg/catalog.js';
import { noticeLeftovers, type BackgroundMode } from './background.js';
import { commentOwner } from './manifest.js';
import { buildLockKey } from './names.js';
import { describeOwner, isOwnedBy, projectOwner, type ProjectOwner } from './owner.js';
import { ofThisProject, readDbfastDatabases, type DbfastDatabase } from './list.js';
import { pooledOwnership } from './pool-template.js';
import { reapLeftover } from './reap.js';
import { reapStale, sweepTemplates } from '../pool/shelf.js';
import { findStaleSpares } from './prepare.js';

/** Options of `drop` (`dbfast drop`). */
export interface DropOptions {
  config: DbfastConfig;
  /** Where clean-up of leftovers this command notices runs (see local/background.ts). */
  background?: BackgroundMode | undefined;
  /** Databases to drop; each must be one dbfast made. */
  names?: readonly string[] | undefined;
  /** Also drop every clone of this config's templates (never a template, a layer template or a spare). */
  allClones?: boolean | undefined;
  /** Also drop what this project's pools left behind (by the owner in their markers): leases of processes that are gone, half-made and stale ready databases. */
  stale?: boolean | undefined;
  /** Also drop this project's templates, layer templates and spares (clones stay): needs `confirm`. */
  templates?: boolean | undefined;
  /** The user confirmed `templates` (the CLI asks, or takes --yes). */
  confirm?: boolean | undefined;
}

/** What `dbfast drop` dropped: each database once, with the one reason it went (none for a database named on the command line). */
export interface DropResult {
  dropped: Array<{ name: string; kind: DbfastDatabase['kind']; reason?: string }>;
  /** Pooled databases of a dropped template that stay: a running process holds or is making them (`drop --stale` drops them once it is done). */
  kept: Array<{ name: string; reason: string }>;
}

interface Checked {
  refused: string[];
  missing: string[];
  foreignOwners: Map<string, ProjectOwner>;
  busy: string[];
}

async function checkNames(
  client: import('pg').Client,
  names: readonly string[],
  byName: Map<string, DbfastDatabase>,
  owner: ProjectOwner,
): Promise<Checked> {
  const checked: Checked = { refused: [], missing: [], foreignOwners: new Map(), busy: [] };
  if (names.length === 0) return checked;
  const found = await client.query<{ datname: string; comment: string | null }>(
    "SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = ANY($1::text[])",
    [names],
  );
  const comments = new Map(found.rows.map((row) => [row.datname, row.comment]));
  for (const name of names) {
    const database = byName.get(name);
    const recorded = commentOwner(comments.get(name));
    if (!comments.has(name)) checked.missing.push(name);
    else if (!database) checked.refused.push(name);
    else if (recorded && !isOwnedBy(recorded, owner)) checked.foreignOwners.set(name, recorded);
    else if (database.kind === 'leftover' && database.inUse) checked.busy.push(name);
  }
  return checked;
}

function refuse(checked: Checked): void {
  const quoted = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(', ');
  if (checked.refused.length > 0) {
    throw new DbfastError('NOT_MADE_BY_DBFAST', `refusing to drop ${quoted(checked.refused)}: dbfast did not make ${checked.refused.length === 1 ? 'it' : 'them'} (no dbfast marker); nothing was dropped`, {
      hint: 'dbfast only drops its own templates and clones (see `dbfast list`); drop other databases with your usual tools.',
      details: { refused: checked.refused },
    });
  }
  if (checked.foreignOwners.size > 0) {
    const [[name, recorded]] = [...checked.foreignOwners] as [[string, ProjectOwner]];
    throw new DbfastError('DATABASE_OWNED_ELSEWHERE', `refusing to drop ${quoted([...checked.foreignOwners.keys()])}: made by another project (${describeOwner(recorded)} made "${name}"); nothing was dropped`, {
      hint: `Drop ${checked.foreignOwners.size === 1 ? 'it' : 'them'} from that project, whose templates and clones they are.`,
      details: { foreign: Object.fromEntries(checked.foreignOwners) },
    });
  }
  if (checked.busy.length > 0) {
    throw new DbfastError('SESSIONS_BLOCKING', `refusing to drop ${quoted(checked.busy)}: a running dbfast process is still working on ${checked.busy.length === 1 ? 'it' : 'them'}; nothing was dropped`, {
      hint: 'Wait for that command to finish; if it was interrupted, the next dbfast command drops what it left.',
      details: { busy: checked.busy },
    });
  }
  if (checked.missing.length > 0) {
    throw new DbfastError('DATABASE_NOT_FOUND', `no database named ${quoted(checked.missing)}; nothing was dropped`, {
      hint: 'See `dbfast list` for the databases dbfast made.',
      details: { missing: checked.missing },
    });
  }
}

/**
 * `dbfast drop`: only databases that carry dbfast's marker (or a side name of this project), and
 * never another project's. Every name is checked before anything is dropped, so a typo or a
 * foreign name drops nothing at all.
 */
export async function drop(options: DropOptions): Promise<DropResult> {
  const names = [...new Set(options.names ?? [])];
  if (names.length === 0 && !options.allClones && !options.templates && !options.stale) {
    throw new DbfastError('USAGE', 'nothing to drop: name databases or pass --all-clones, --templates or --stale', { hint: 'See `dbfast list` for the databases dbfast made.' });
  }
  if (options.templates && !options.confirm) {
    throw new DbfastError('CONFIRMATION_REQUIRED', "dropping every template of this project needs confirmation: the next seed rebuilds them from the files", {
      hint: 'Run `dbfast drop --templates` in a terminal and answer the prompt, or pass --yes.',
    });
  }
  const owner = projectOwner(options.config);
  const target = await localTarget(options.config);
  return withClient(target, async (client) => {
    const ours = await readDbfastDatabases(client, options.config);
    const byName = new Map(ours.map((database) => [database.name, database]));
    refuse(await checkNames(client, names, byName, owner));
    const targets = names.map((name) => byName.get(name) as DbfastDatabase);
    if (options.allClones) {
      for (const database of ours) {
        const mine = database.owner === null || isOwnedBy(database.owner, owner);
        if (database.kind === 'clone' && database.project && mine && !names.includes(database.name)) targets.push(database);
      }
    }
    if (options.templates) {
      const templateKinds = new Set<DbfastDatabase['kind']>(['template', 'layer', 'spare']);
      for (const database of ours) {
        if (templateKinds.has(database.kind) && ofThisProject(database, owner) && !targets.includes(database)) targets.push(database);
      }
    }
    const dropped = new Map<string, DropResult['dropped'][number]>();
    const kept = new Map<string, string>();
    const note = (name: string, kind: DbfastDatabase['kind'], reason?: string): void => {
      if (!dropped.has(name)) dropped.set(name, reason === undefined ? { name, kind } : { name, kind, reason });
    };
    const owns = pooledOwnership(options.config);
    // A dropped template's ready databases could never be leased again: they go with it (before, while
    // the template still says whose a half-made one is; after, for any a running pool made meanwhile).
    const templates = targets.filter((database) => database.kind === 'template').map((database) => database.name);
    const sweep = async (): Promise<void> => {
      if (templates.length === 0) return;
      const swept = await sweepTemplates(client, owns, templates);
      for (const entry of swept.dropped) note(entry.name, 'pool', entry.reason);
      for (const entry of swept.spared) kept.set(entry.name, entry.reason);
    };
    await sweep();
    // So do the spares of a dropped layer template.
    const layers = new Set(targets.filter((database) => database.kind === 'layer').map((database) => database.name));
    for (const database of ours) {
      if (database.kind === 'spare' && ofThisProject(database, owner) && database.template !== null && layers.has(database.template) && !targets.includes(database)) targets.push(database);
    }
    for (const database of targets) {
      if (dropped.has(database.name)) continue;
      // A template is dropped under its build lock so a build running right now is not cut short.
      if (database.kind === 'template' || database.kind === 'layer') await withAdvisoryLock(client, buildLockKey(database.name), () => dropDatabase(client, database.name));
      else if (database.kind === 'leftover' || database.kind === 'spare') {
        if (!(await reapLeftover(client, database.name))) continue;
      } else await dropDatabase(client, database.name);
      note(database.name, database.kind);
    }
    await sweep();
    if (options.stale) {
      for (const leftover of await reapStale(client, owns)) note(leftover.name, 'pool', leftover.reason);
      for (const spare of await findStaleSpares(client, options.config)) {
        if (!dropped.has(spare.name) && (await reapLeftover(client, spare.name))) note(spare.name, 'spare', spare.reason);
      }
    }
    for (const name of dropped.keys()) kept.delete(name);
    await noticeLeftovers(client, { config: options.config }, target, { mode: options.background });
    return { dropped: [...dropped.values()], kept: [...kept].map(([name, reason]) => ({ name, reason })) };
  });
}
