import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { DbfastError } from '../../src/errors.js';
import { targetFromUrl, type DbTarget } from '../../src/pg/target.js';
import type { SqlFile } from '../../src/sql/index.js';
import { freshDatabase, local, query } from './db.js';

export const FIXTURES = fileURLToPath(new URL('../sql/fixtures/', import.meta.url));

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

export const TRICKY = ['tricky/010_types_and_functions.sql', 'tricky/020_copy.sql', 'tricky/030_transactions.sql'].map(fixture);

/** What the tricky fixtures must leave behind, whichever way they ran. */
export async function expectTrickyResults(url: string): Promise<void> {
  expect(await query(url, 'SELECT id, feeling::text, note FROM app."Weird;""Name" ORDER BY id')).toEqual([
    { id: '1', feeling: 'happy', note: "it's; a \\ backslash" },
    { id: '2', feeling: 'ok', note: "semi;colon 'quoted'" },
  ]);
  expect(await query(url, 'SELECT "naïve" AS v FROM app."café" ORDER BY 1')).toEqual([{ v: 'crème brûlée' }, { v: 'from; a DO block' }]);
  expect(await query(url, "SELECT app.add_one(1) AS a, app.tagged() AS t, app.pick(5) AS p, obj_description('app.add_one(int)'::regprocedure) AS c")).toEqual([
    { a: 2, t: ';;', p: 1, c: 'adds one; really' },
  ]);
  expect(await query(url, "SELECT has_function_privilege('public', 'app.add_one(int)', 'EXECUTE') AS granted")).toEqual([{ granted: true }]);
  expect(await query(url, 'SELECT id, name, note FROM app.items ORDER BY id')).toEqual([
    { id: 1, name: 'tab\there', note: 'back\\slash' },
    { id: 2, name: null, note: 'ünïcödé 😀' },
    { id: 3, name: 'semi;colon', note: "'quote' -- not a comment" },
    { id: 4, name: 'csv, with comma', note: 'two\nlines' },
  ]);
  expect(await query(url, 'SELECT "ключ" AS k, "値" AS v FROM app."Ünïcode"')).toEqual([{ k: 1, v: '日本語' }]);
  expect(await query(url, 'SELECT count(*)::int AS n FROM app.ledger')).toEqual([{ n: 2 }]);
  expect(await query(url, "SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = 'app.ledger_amount'::regclass")).toEqual([{ valid: true }]);
}

