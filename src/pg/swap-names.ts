/**
 * The names dbfast derives from a live database it replaces (deploy, restore, rollback), and the
 * one rule on that database's name that follows from them. Kept this low in the module order
 * because three places apply the same rule: the config loader and `remote add`/`remote update`
 * (config/rules.ts) so that a remote no deploy could use is never accepted, and every command
 * that replaces the database (remote/names.ts), for configs built in code.
 */

/** PostgreSQL cuts longer names to this many bytes, silently, so two derived names could collide. */
export const MAX_NAME_BYTES = 63;

/** Where the new content of a live database is built before it is swapped in, by purpose. */
export const SIDE_SUFFIXES = { deploy: '__dbfast_new', restore: '__dbfast_restore' } as const;
/** Where the replaced database is kept for a rollback. */
export const PREVIOUS_SUFFIX = '__dbfast_prev';

/** Which command builds the side database (each has its own name, so leftovers say whose they are). */
export type SidePurpose = keyof typeof SIDE_SUFFIXES;

const ALL_SUFFIXES = [...Object.values(SIDE_SUFFIXES), PREVIOUS_SUFFIX];
const LONGEST_SUFFIX = Math.max(...ALL_SUFFIXES.map((suffix) => Buffer.byteLength(suffix, 'utf8')));

/** The longest live database name dbfast can deploy, restore and roll back (47 bytes). */
export const MAX_LIVE_NAME_BYTES = MAX_NAME_BYTES - LONGEST_SUFFIX;

/** What to do about a name that `liveNameProblem` refuses. */
export const LIVE_NAME_HINT = `Deploy to, restore and roll back databases named with at most ${MAX_LIVE_NAME_BYTES} bytes: rename the database (ALTER DATABASE ... RENAME TO ...) and the remote's URL.`;

/**
 * Why dbfast cannot replace a database of this name (its derived names would be cut by
 * PostgreSQL), or undefined when it can. Counts UTF-8 bytes, as PostgreSQL does, not characters.
 */
export function liveNameProblem(live: string): string | undefined {
  const bytes = Buffer.byteLength(live, 'utf8');
  if (bytes <= MAX_LIVE_NAME_BYTES) return undefined;
  return `database name "${live}" is ${bytes} bytes, more than the ${MAX_LIVE_NAME_BYTES} dbfast can replace: it derives ${ALL_SUFFIXES.map((s) => `"<name>${s}"`).join(', ')} from it, and PostgreSQL names are at most ${MAX_NAME_BYTES} bytes`;
}
