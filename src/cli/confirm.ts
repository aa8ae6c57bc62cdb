import { createInterface } from 'node:readline/promises';
import { DbfastError, isDbfastError } from '../errors.js';
import type { ReplacementTarget } from '../index.js';
import type { CommandContext } from './action.js';
import { bytes } from './render/format.js';

/*
 * The seam with the library. Whether a run needs confirmation is the library's decision
 * (remote/policy.ts): called without `confirmed`, it throws CONFIRMATION_REQUIRED before it has
 * connected to or changed anything. The CLI then asks the library what would be replaced
 * (`describeReplacement`: server, database, size), asks the person at the terminal, and on
 * "yes" calls again with `confirmed: true`. Without a terminal (or with --json) the refusal and
 * its hint (--confirm) stand.
 */

/** The prompt's question: what will be replaced, where, and how big it is now. */
export function confirmationQuestion(what: string, target: ReplacementTarget): string {
  const size = target.sizeBytes === null ? '' : ` (${bytes(target.sizeBytes)} now)`;
  return `${what} database "${target.database}"${size} on server ${target.server}, remote ${target.remote} (environment ${target.environment}).`;
}

/** A person at a terminal who can answer: stdin and stderr are terminals, and not --json. */
function canAsk(ctx: CommandContext): boolean {
  return ctx.out.interactive && process.stdin.isTTY === true;
}

/**
 * Asks the person at the terminal; true only for the word "yes" (a y/N is answered by reflex).
 * False at once without a terminal or with --json: callers then refuse with their hint.
 */
export async function askOnTerminal(ctx: CommandContext, question: string): Promise<boolean> {
  if (!canAsk(ctx)) return false;
  ctx.out.clearProgress();
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\n${ctx.out.errStyle.warn('Type "yes" to go on:')} `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export interface ConfirmRequest {
  remote: string;
  /** What the run does to the database, for the question: `Deploy to`, `Restore backup X over`. */
  what: string;
  /** --confirm / --yes. */
  confirm?: boolean | undefined;
  yes?: boolean | undefined;
}

/**
 * Runs `operation` confirmed as the flags say; on the library's CONFIRMATION_REQUIRED, asks
 * the person at the terminal (see above) and runs it again confirmed on "yes".
 */
export async function withConfirmation<T>(ctx: CommandContext, request: ConfirmRequest, operation: (confirmed: boolean) => Promise<T>): Promise<T> {
  const confirmed = request.confirm === true || request.yes === true;
  try {
    return await operation(confirmed);
  } catch (error) {
    if (confirmed || !isDbfastError(error) || error.code !== 'CONFIRMATION_REQUIRED' || !canAsk(ctx)) throw error;
    const { describeReplacement } = await import('../index.js');
    const target = await describeReplacement({ config: await ctx.config(), remote: request.remote });
    if (!(await askOnTerminal(ctx, confirmationQuestion(request.what, target)))) {
      throw new DbfastError('CONFIRMATION_REQUIRED', 'not confirmed (the answer was not "yes"); nothing was changed', { hint: error.hint, details: error.details });
    }
  }
  return operation(true);
}
