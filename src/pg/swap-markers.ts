/**
 * How dbfast knows the databases on a swap's names are its own (see replace/leftover.ts): the
 * comment it gives them, and what is wrong when a database on one of those names lacks it. Kept
 * this low in the module order because two places read them: the deploy, restore and rollback
 * that refuse such a database (replace/), and the checks that report it beforehand
 * (`remote test`, `deploy --dry-run`, in validate/), with the same message and hint.
 */
import type pg from 'pg';
import { commentStatement } from './catalog.js';
import { quoteIdent } from './quote.js';

/** The comment that proves dbfast made side database `side` (its name is in it: a renamed copy does not match). */
export function sideMarker(side: string): string {
  return `dbfast side database "${side}": dropped by the next deploy or restore if an interrupted run left it behind`;
}

/** The comment that proves dbfast kept `previous` as the copy a swap replaced (its name is in it, as in `sideMarker`). */
export function previousMarker(previous: string): string {
  return `dbfast previous database "${previous}": the database a deploy or restore replaced, kept for \`dbfast rollback\`; replaced by the next deploy or restore`;
}

/** A database on a swap's name that dbfast did not make: what the refusal (SIDE_NAME_TAKEN) and the check say. */
export interface SwapNameProblem {
  message: string;
  hint: string;
  databases: string[];
}

/** Comments of the databases among `names` that exist. */
export async function databaseComments(client: pg.Client, names: readonly string[]): Promise<Map<string, string | null>> {
  const result = await client.query<{ datname: string; comment: string | null }>(
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = ANY($1::text[])`,
    [names],
  );
  return new Map(result.rows.map((row) => [row.datname, row.comment]));
}

/** The side names in `found` (name → comment) that lack dbfast's marker, as one problem; undefined when none does. */
export function foreignSidesProblem(found: ReadonlyMap<string, string | null>): SwapNameProblem | undefined {
  const foreign = [...found].filter(([name, comment]) => comment !== sideMarker(name)).map(([name]) => name);
  if (foreign.length === 0) return undefined;
  const list = foreign.map((name) => quoteIdent(name)).join(', ');
  return {
    message: `database ${list} exists but was not made by dbfast: dbfast needs ${foreign.length === 1 ? 'this name' : 'these names'} for the database it builds before the swap; nothing was changed`,
    hint: `Rename it (ALTER DATABASE ... RENAME TO ...) or drop it yourself if it is not needed, then run the command again.`,
    databases: foreign,
  };
}

/** `previous` exists (beside `live`) without dbfast's marker: a swap would replace it and a rollback would put it live. */
export function foreignPreviousProblem(live: string, previous: string): SwapNameProblem {
  const rename = `ALTER DATABASE ${quoteIdent(previous)} RENAME TO ${quoteIdent(`${live}_saved`)};`;
  return {
    message: `database ${quoteIdent(previous)} exists but is not dbfast's previous copy of ${quoteIdent(live)} (it lacks dbfast's marker): a swap would replace it and a rollback would put it live; nothing was changed`,
    hint:
      `If it is yours, rename it (${rename}) or drop it if it is not needed, then run the command again. ` +
      `If an older dbfast kept it (before previous copies were marked) and you want it as the rollback target, mark it: ${commentStatement(previous, previousMarker(previous))};`,
    databases: [previous],
  };
}

/** The previous-name problem, read from the catalog: only when both `live` and `previous` exist and `previous` lacks the marker. */
export async function previousNameProblem(client: pg.Client, live: string, previous: string): Promise<SwapNameProblem | undefined> {
  const found = await databaseComments(client, [live, previous]);
  if (!found.has(live) || !found.has(previous) || found.get(previous) === previousMarker(previous)) return undefined;
  return foreignPreviousProblem(live, previous);
}
