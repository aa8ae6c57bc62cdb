import { createInterface } from 'node:readline/promises';
import { DbfastError, isDbfastError } from '../errors.js';
import type { CommandContext } from './action.js';
import { bytes } from './render/format.js';

/**
 * The seam with the library: whether a run needs confirmation is the library's decision
 * (remote/policy). Called without `confirmed`, it throws CONFIRMATION_REQUIRED before it has
 * changed anything, with `details` naming what would be replaced. The CLI asks the person at the
 * terminal and, on "yes", calls again with `confirmed: true`.
 */
export interface ConfirmationDetails {
  remote?: string;
  environment?: string;
  /** `host:port` (or the socket) of the remote's server. */
  server?: string;
  database?: string;
  /** The live database's size now; null when it could not be read (or does not exist yet). */
  sizeBytes?: number | null;
  /** What would happen, e.g. `deploy`, `restore backup 2025...`. */
  action?: string;
}

/** What the prompt says will be replaced, from the error's details (or its message when there are none). */
export function confirmationQuestion(error: DbfastError): string {
  const d = (error.details ?? {}) as ConfirmationDetails;
  if (!d.database) return `${error.message.replace(/; nothing was changed$/, '')}.`;
  const where = d.server ? ` on server ${d.server}` : '';
  const size = typeof d.sizeBytes === 'number' ? `, ${bytes(d.sizeBytes)} now` : '';
  const remote = d.remote ? ` (remote ${d.remote}${d.environment ? `, environment ${d.environment}` : ''})` : '';
  const action = d.action ? `${d.action}: ` : '';
  return `${action}this replaces database "${d.database}"${where}${size}${remote}.`;
}

/** A person at a terminal who can answer: stdin and stderr are terminals, and not --json. */
function canAsk(ctx: CommandContext): boolean {
  return ctx.out.interactive && process.stdin.isTTY === true;
}

/** Asks on the terminal; true only for the full word "yes" (a y/N is answered by reflex). */
async function askYes(ctx: CommandContext, question: string): Promise<boolean> {
  ctx.out.clearProgress();
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question}\n${ctx.out.errStyle.warn('Type "yes" to go on:')} `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

/**
 * Runs `operation` with --confirm/--yes as given. When the library answers CONFIRMATION_REQUIRED
 * and a person is at a terminal, asks them what the error says will be replaced, and on "yes"
 * runs it again confirmed. Without a terminal (or with --json) the library's refusal stands.
 */
export async function withConfirmation<T>(ctx: CommandContext, flags: { confirm?: boolean | undefined; yes?: boolean | undefined }, operation: (confirmed: boolean) => Promise<T>): Promise<T> {
  const confirmed = flags.confirm === true || flags.yes === true;
  try {
    return await operation(confirmed);
  } catch (error) {
    if (confirmed || !isDbfastError(error) || error.code !== 'CONFIRMATION_REQUIRED' || !canAsk(ctx)) throw error;
    if (!(await askYes(ctx, confirmationQuestion(error)))) {
      throw new DbfastError('CONFIRMATION_REQUIRED', 'not confirmed (the answer was not "yes"); nothing was changed', { hint: error.hint, details: error.details });
    }
  }
  return operation(true);
}
