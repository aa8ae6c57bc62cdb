import type pg from 'pg';
import { PREVIOUS_SUFFIX, SIDE_SUFFIXES } from '../pg/swap-names.js';
import { databaseComments, foreignSidesProblem, previousNameProblem } from '../pg/swap-markers.js';
import { failed, passed, type CheckResult } from './types.js';

/**
 * The `side_names` check: the names a swap needs (`<db>__dbfast_new`, `<db>__dbfast_restore`,
 * `<db>__dbfast_prev`) are free or hold dbfast's own databases. A database there that dbfast did
 * not make stops the deploy (or restore) with SIDE_NAME_TAKEN; this reports it beforehand, with
 * the same message and hint. Reads only.
 */
export async function checkSwapNames(client: pg.Client, database: string): Promise<CheckResult> {
  const sides = Object.values(SIDE_SUFFIXES).map((suffix) => `${database}${suffix}`);
  const previous = `${database}${PREVIOUS_SUFFIX}`;
  // In the order a deploy meets them: the previous name is refused before the build, the side names after it.
  const problems = [await previousNameProblem(client, database, previous), foreignSidesProblem(await databaseComments(client, sides))].filter((p) => p !== undefined);
  if (problems.length === 0) return passed('side_names', `${[...sides, previous].map((name) => `"${name}"`).join(', ')}: free or dbfast's own`);
  return failed('side_names', problems.map((p) => p.message).join('\n'), problems.map((p) => p.hint).join(' '));
}
