import { DbfastError } from '../errors.js';

/** PostgreSQL cuts longer names to this many bytes, silently, so two derived names could collide. */
export const MAX_NAME_BYTES = 63;

/** Where the new content of a live database is built before it is swapped in, by purpose. */
export const SIDE_SUFFIXES = { deploy: '__dbfast_new', restore: '__dbfast_restore' } as const;
/** Where the replaced database is kept for a rollback. */
export const PREVIOUS_SUFFIX = '__dbfast_prev';

/** Which command builds the side database (each has its own name, so leftovers say whose they are). */
export type SidePurpose = keyof typeof SIDE_SUFFIXES;

const ALL_SUFFIXES = [...Object.values(SIDE_SUFFIXES), PREVIOUS_SUFFIX];
const LONGEST_SUFFIX = Math.max(...ALL_SUFFIXES.map((suffix) => Buffer.byteLength(suffix)));

/** The longest live database name dbfast can deploy, restore and roll back (47 bytes). */
export const MAX_LIVE_NAME_BYTES = MAX_NAME_BYTES - LONGEST_SUFFIX;

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
  const bytes = Buffer.byteLength(live);
  if (bytes <= MAX_LIVE_NAME_BYTES) return;
  throw new DbfastError(
    'NAME_TOO_LONG',
    `database name "${live}" is ${bytes} bytes: too long for the names dbfast derives from it (${ALL_SUFFIXES.map((s) => `"${s}"`).join(', ')}); PostgreSQL names are at most ${MAX_NAME_BYTES} bytes`,
    { hint: `Deploy to, restore and roll back databases named with at most ${MAX_LIVE_NAME_BYTES} bytes: rename the database (ALTER DATABASE ... RENAME TO ...) and the remote's URL.` },
  );
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
