import { DbfastError } from '../errors.js';
import { LIVE_NAME_HINT, liveNameProblem, PREVIOUS_SUFFIX, SIDE_SUFFIXES, type SidePurpose } from '../pg/swap-names.js';

// The rule and the suffixes live in pg/ (below config/, whose loader applies the same rule to
// every remote); the public API names the limit from here.
export { MAX_LIVE_NAME_BYTES } from '../pg/swap-names.js';

/** The databases a swap involves. */
export interface SwapNames {
  live: string;
  /** Where the new content is built: `<live>__dbfast_new` (deploy) or `<live>__dbfast_restore`. */
  side: string;
  /** Where the replaced database is kept for rollback: `<live>__dbfast_prev`. */
  previous: string;
  /** Every side name of every purpose: leftovers of interrupted runs, dropped under the lock. */
  sides: string[];
}

/**
 * Refuses a live database name whose derived names PostgreSQL would cut: every command that
 * replaces it (deploy, restore, rollback) derives all of them, so each accepts exactly the same
 * names. Checked before anything connects.
 */
export function checkLiveName(live: string): void {
  const problem = liveNameProblem(live);
  if (problem) throw new DbfastError('NAME_TOO_LONG', problem, { hint: LIVE_NAME_HINT });
}

/** The names derived from a live database for a side-database swap (checked, see `checkLiveName`). */
export function swapNames(live: string, purpose: SidePurpose = 'restore'): SwapNames {
  checkLiveName(live);
  return {
    live,
    side: `${live}${SIDE_SUFFIXES[purpose]}`,
    previous: `${live}${PREVIOUS_SUFFIX}`,
    sides: Object.values(SIDE_SUFFIXES).map((suffix) => `${live}${suffix}`),
  };
}
