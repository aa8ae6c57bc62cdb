import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DbfastError } from '../../src/errors.js';
import { targetFromUrl, type DbTarget } from '../../src/pg/index.js';
import type { SqlFile } from '../../src/sql/index.js';
import { freshDatabase, local } from '../support/db.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A fixture file, named relative to the fixtures folder (which plays the repository). */
export function fixture(relativePath: string): SqlFile {
  return { relativePath, absolutePath: path.join(FIXTURES, relativePath) };
}

export async function freshTarget(): Promise<{ url: string; target: DbTarget }> {
  const { url } = await freshDatabase(local, 'sql');
  return { url, target: targetFromUrl(url) };
}

/** Awaits a promise that must fail with a DbfastError, and returns it. */
export async function failure(promise: Promise<unknown>): Promise<DbfastError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'expected a failure').toBeInstanceOf(DbfastError);
  return error as DbfastError;
}
