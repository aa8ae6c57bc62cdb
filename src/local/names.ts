import { randomBytes } from 'node:crypto';
import { DbfastError } from '../errors.js';
import type { DbfastConfig } from '../config/types.js';
import { sha256 } from '../project/hash.js';
import type { ProjectOwner } from './owner.js';

/** PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * Databases dbfast makes on its way to a template or a clone get a "side name":
 * `<base>__dbfast_<kind>_<random><check>`, where `check` is derived from the project's identity
 * (see owner.ts), the base, the kind and the random part. Such a database is recognisably this
 * project's by its name alone, from the moment CREATE DATABASE starts: an interrupt that leaves
 * one before dbfast could mark it (Ctrl-C or SIGKILL during CREATE DATABASE) leaves nothing a
 * later command cannot recognise and reap. A foreign database that merely looks similar fails
 * the check and is never touched.
 *
 * - `build`: a template being built; `old`: a template or clone replaced by a newer one, to be dropped;
 * - `clone`: a seed's clone before it is renamed to the name the user asked for;
 * - `dump`: a connectable copy of a template that a deploy dumps;
 * - `spare`: a copy of a layer template (or of template0) made in the background, which the
 *   next build of the layer above renames into its side database instead of copying then.
 */
export const SIDE_KINDS = ['build', 'old', 'clone', 'dump', 'spare'] as const;
/** What a side database is for (see SIDE_KINDS). */
export type SideKind = (typeof SIDE_KINDS)[number];

const RANDOM_HEX = 5;
const CHECK_HEX = 3;
/** The longest suffix a side name adds to its base. */
const LONGEST_SUFFIX_BYTES = Math.max(...SIDE_KINDS.map((kind) => `__dbfast_${kind}_`.length)) + RANDOM_HEX + CHECK_HEX;
/** Longest base name (a template's name) that leaves room for every side suffix. */
export const MAX_BASE_BYTES = MAX_IDENTIFIER_BYTES - LONGEST_SUFFIX_BYTES;

/** Matches any side name (the check is verified separately, since it needs the owner). */
export const SIDE_NAME_PATTERN = new RegExp(`^(.+)__dbfast_(${SIDE_KINDS.join('|')})_([0-9a-f]{${RANDOM_HEX}})([0-9a-f]{${CHECK_HEX}})$`);
/** The same, for PostgreSQL's `~` operator. */
export const SIDE_NAME_SQL_PATTERN = `__dbfast_(${SIDE_KINDS.join('|')})_[0-9a-f]{${RANDOM_HEX + CHECK_HEX}}$`;

/** Length of a name as PostgreSQL counts it (UTF-8 bytes). */
export function byteLength(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}

/**
 * `<template_name>_<env>`. Checked against the identifier limit including the side-name
 * suffix, because the server would silently truncate a longer name and two templates could collide.
 */
export function templateDatabaseName(config: DbfastConfig, environment: string): string {
  const name = `${config.database.templateName}_${environment}`;
  if (byteLength(name) > MAX_BASE_BYTES) {
    throw new DbfastError(
      'TEMPLATE_NAME_TOO_LONG',
      `template name "${name}" is ${byteLength(name)} bytes; with dbfast's build suffix it must stay within ${MAX_BASE_BYTES} bytes (PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES})`,
      { hint: 'Shorten database.template_name in dbfast.toml (or the environment name).' },
    );
  }
  return name;
}

function checkOf(owner: ProjectOwner, base: string, kind: SideKind, random: string): string {
  return sha256(`dbfast-side\0${owner.id}\0${base}\0${kind}\0${random}`).slice(0, CHECK_HEX);
}

/** A fresh side name for `base` (a template's name) of this project. */
export function sideName(base: string, kind: SideKind, owner: ProjectOwner): string {
  const random = randomBytes(4).toString('hex').slice(0, RANDOM_HEX);
  return `${base}__dbfast_${kind}_${random}${checkOf(owner, base, kind, random)}`;
}

/** What a side name says. */
export interface SideNameParts {
  base: string;
  kind: SideKind;
  /** The check matches this owner: the project made it. */
  ours: boolean;
}

/** The parts of a side name, or undefined for any other name. */
export function parseSideName(name: string, owner?: ProjectOwner): SideNameParts | undefined {
  const match = SIDE_NAME_PATTERN.exec(name);
  if (!match) return undefined;
  const [, base, kind, random, check] = match as unknown as [string, string, SideKind, string, string];
  return { base, kind, ours: owner !== undefined && checkOf(owner, base, kind, random) === check };
}

/** The template a side name belongs to, or undefined for any other name. */
export function sideNameBase(name: string): string | undefined {
  return parseSideName(name)?.base;
}

/** Key of the advisory lock that serialises builds of one template on one server. */
export function buildLockKey(template: string): string {
  return `dbfast:build:${template}`;
}

/**
 * Key of the advisory lock the process that made a side database holds for as long as the
 * database has that name. A free lock means nobody is working on it: it is a leftover.
 */
export function sideLockKey(name: string): string {
  return `dbfast:db:${name}`;
}

/** Checks a database name given by the user (seed --output, drop NAME) before anything runs. */
export function assertDatabaseName(name: string, what: string): void {
  if (name.length === 0 || name.includes('\0')) {
    throw new DbfastError('DATABASE_NAME_INVALID', `${what} must be a non-empty database name`);
  }
  if (byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw new DbfastError('DATABASE_NAME_INVALID', `${what} "${name}" is ${byteLength(name)} bytes; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES}`, {
      hint: 'Choose a shorter name.',
    });
  }
}
