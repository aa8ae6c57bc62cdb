import { DbfastError, isDbfastError } from '../../errors.js';
import type { Output } from '../output.js';

/**
 * Anything thrown, as the DbfastError it is: operational failures (lost connection, full disk,
 * missing privilege, ...) with their own codes, anything else INTERNAL (a bug: dbfast did not
 * expect it). The mapping is loaded on the error path only: start-up stays lean.
 */
export async function asDbfastError(error: unknown): Promise<DbfastError> {
  if (isDbfastError(error)) return error;
  const { toDbfastError } = await import('../../index.js');
  return toDbfastError(error);
}

/**
 * The one place a user-facing error is written, usage errors included. Text: `error: message`
 * and `hint: ...` on stderr (coloured on a terminal), the stack with --verbose. --json: one
 * `{"error": {code, message, hint, exitCode, details}}` object on stdout, nothing on stderr.
 * Returns the exit code the error's class calls for.
 */
export async function renderError(out: Output, error: unknown): Promise<number> {
  const known = await asDbfastError(error);
  if (out.json) {
    out.stdout(JSON.stringify({ error: known.toJSON() }, null, 2));
  } else {
    const style = out.errStyle;
    out.stderr(`${style.bad('error:')} ${known.message}`);
    if (known.hint) out.stderr(`${style.dim('hint:')} ${known.hint}`);
    const stack = error instanceof Error ? error.stack : undefined;
    if (out.verbose && stack) out.stderr(style.dim(stack));
  }
  return known.exitCode;
}
