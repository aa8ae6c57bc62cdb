import type pg from 'pg';
import { interrupted, registerCleanup } from '../cleanup.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { changeDatabases, dropDatabase, terminateSessions, type DatabaseChange } from '../pg/catalog.js';
import { endAndDrop } from './side.js';
import { advisoryUnlock, tryAdvisoryLock } from '../pg/lock.js';
import type { DbTarget } from '../pg/target.js';
import { sideLockKey, sideName } from './names.js';
import type { ProjectOwner } from './owner.js';

/**
 * Putting a new clone (made under a side name) in the place of `--output`, which may hold an
 * older clone: the name always has a database. The old one is renamed aside to
 * `<template>__dbfast_old_<hex>` and the new one into place in ONE transaction (renames may run
 * in a transaction block; only CREATE/DROP DATABASE may not); the old one is dropped afterwards,
 * off the output's name. An interrupt at any moment leaves the old or the new database under the
 * output name, and drops whatever side database this process holds before the command exits.
 */

/** How many times the old clone's sessions are ended before the rename gives up on them. */
const SESSION_ATTEMPTS = 3;

/** The side databases a seed holds, dropped (and waited for) if the process is interrupted. */
export interface SideGuard {
  /** One more side name to drop on an interrupt. */
  add(name: string): void;
  /** The work is done (or failed and cleaned up): an interrupt no longer touches these names. */
  done(): void;
}

/**
 * On Ctrl-C: end our own backend (a CREATE, a swap: committed or not, entirely, once it has
 * exited), then drop every side name it may have left, on a fresh connection, and wait for that
 * before the command exits. The names are random and under this process's locks, so dropping
 * each if it is there is safe: the one a committed swap renamed away is simply not there.
 */
export function guardSideDatabases(target: DbTarget, client: pg.Client): SideGuard {
  // A cleanup registered once the interrupt is being handled would never run: start nothing new.
  stopIfInterrupted('before the clone was made; nothing was changed');
  const names = new Set<string>();
  const unregister = registerCleanup(async () => {
    // A copy: the interrupted work may call done() meanwhile.
    const all = [...names];
    if (all.length === 0) return;
    await endAndDrop(target, client, all);
  });
  return {
    add: (name) => names.add(name),
    done: () => {
      unregister();
    },
  };
}

/** What `swapIn` puts where. */
export interface SwapInSpec {
  /** The new clone's side name. */
  side: string;
  output: string;
  /** The new clone's comment (dbfast's clone marker). */
  comment: string;
  /** Whether `output` exists now (a clone this project made: the caller checked). */
  replacing: boolean;
  /** The template, the old clone's side name's base. */
  base: string;
  owner: ProjectOwner;
}

/** What `swapIn` left to do. */
export interface SwapInResult {
  /**
   * The replaced clone under its side name, still locked by this session: drop it or call
   * `release` (it is then a leftover the background worker drops). Undefined when nothing was replaced.
   */
  old: { name: string; release(): Promise<void> } | undefined;
}

/** Throws INTERRUPTED while an interrupt is being handled: nothing new starts, nothing is swapped in. */
function stopIfInterrupted(what: string): void {
  const signal = interrupted();
  if (signal) throw new DbfastError('INTERRUPTED', `interrupted (${signal}) ${what}`);
}

function isInUse(error: unknown): boolean {
  return (error as { code?: string }).code === '55006';
}

/** A fresh `old` side name whose lock this session now holds. */
async function lockedOldName(client: pg.Client, base: string, owner: ProjectOwner): Promise<string> {
  for (;;) {
    const name = sideName(base, 'old', owner);
    if (await tryAdvisoryLock(client, sideLockKey(name))) return name;
  }
}

/**
 * Marks the new clone and renames it to `output`; an existing `output` is renamed aside first, in
 * the same transaction, after its sessions were ended (PostgreSQL renames no database someone is
 * connected to: 55006). Sessions that keep coming back get the old way after SESSION_ATTEMPTS
 * tries: the old clone is dropped (with FORCE), then the new one renamed.
 */
export async function swapIn(client: pg.Client, guard: SideGuard, spec: SwapInSpec, logger: Logger): Promise<SwapInResult> {
  const mark: DatabaseChange = { kind: 'comment', database: spec.side, comment: spec.comment };
  const into: DatabaseChange = { kind: 'rename', from: spec.side, to: spec.output };
  // Durable before we say it exists (CREATE DATABASE alone always was; a rename follows the server's synchronous_commit).
  const options = { synchronousCommit: true };
  // One message the server runs as one transaction: sent only while no interrupt is being handled
  // (one that comes while it runs ends the backend: the swap then happened entirely or not at all).
  const notSwapped = `before ${spec.output} was ${spec.replacing ? 'replaced; it is unchanged' : 'made; nothing was changed'}`;
  if (!spec.replacing) {
    stopIfInterrupted(notSwapped);
    await changeDatabases(client, [mark, into], options);
    return { old: undefined };
  }
  const old = await lockedOldName(client, spec.base, spec.owner);
  const release = (): Promise<void> => advisoryUnlock(client, sideLockKey(old)).catch(() => undefined);
  guard.add(old);
  try {
    for (let attempt = 1; attempt <= SESSION_ATTEMPTS; attempt++) {
      await terminateSessions(client, spec.output);
      stopIfInterrupted(notSwapped);
      try {
        await changeDatabases(client, [mark, { kind: 'rename', from: spec.output, to: old }, into], options);
        return { old: { name: old, release } };
      } catch (error) {
        if (!isInUse(error)) throw error;
        logger.debug(`sessions came back to ${spec.output} before it could be renamed aside (try ${attempt} of ${SESSION_ATTEMPTS})`);
      }
    }
    logger.warn(`sessions keep connecting to ${spec.output}: dropping it before the new clone takes its name`);
    stopIfInterrupted(notSwapped);
    await dropDatabase(client, spec.output);
    await changeDatabases(client, [mark, into], options);
    await release();
    return { old: undefined };
  } catch (error) {
    await release();
    throw error;
  }
}
