import { randomBytes } from 'node:crypto';
import { DbfastError } from '../errors.js';
import type { DbfastConfig } from '../config/types.js';

/** PostgreSQL truncates identifiers longer than this many bytes (NAMEDATALEN - 1). */
export const MAX_IDENTIFIER_BYTES = 63;
export const BUILD_SUFFIX = '__dbfast_build_';
export const OLD_SUFFIX = '__dbfast_old_';
const RANDOM_HEX = 8;
/** The longest suffix a template name gets while it is being built or replaced. */
const LONGEST_SUFFIX_BYTES = Math.max(BUILD_SUFFIX.length, OLD_SUFFIX.length) + RANDOM_HEX;

export function byteLength(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}

/**
 * `<template_name>_<env>`. Checked against the identifier limit including the side-database
 * suffix, because the server would silently truncate a longer name and two templates could collide.
 */
export function templateDatabaseName(config: DbfastConfig, environment: string): string {
  const name = `${config.database.templateName}_${environment}`;
  const room = MAX_IDENTIFIER_BYTES - LONGEST_SUFFIX_BYTES;
  if (byteLength(name) > room) {
    throw new DbfastError(
      'TEMPLATE_NAME_TOO_LONG',
      `template name "${name}" is ${byteLength(name)} bytes; with dbfast's build suffix it must stay within ${room} bytes (PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES})`,
      { hint: 'Shorten database.template_name in dbfast.toml (or the environment name).' },
    );
  }
  return name;
}

function randomSuffix(): string {
  return randomBytes(RANDOM_HEX / 2).toString('hex');
}

export function sideDatabaseName(template: string): string {
  return `${template}${BUILD_SUFFIX}${randomSuffix()}`;
}

export function oldDatabaseName(template: string): string {
  return `${template}${OLD_SUFFIX}${randomSuffix()}`;
}

/** The template a side or old database belongs to, or undefined for any other name. */
export function leftoverOwner(name: string): string | undefined {
  const match = /^(.*)__dbfast_(?:build|old)_[0-9a-f]{8}$/.exec(name);
  return match?.[1];
}

/** Key of the advisory lock that serialises builds of one template on one server. */
export function buildLockKey(template: string): string {
  return `dbfast:build:${template}`;
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
