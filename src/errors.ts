/**
 * The one error type the library throws. `code` is stable (scripts match on it),
 * `hint` says what to do next, `exitCode` is the CLI's exit status for it.
 */
export type ExitCode = 1 | 2 | 3 | 130;

export interface DbfastErrorOptions {
  hint?: string;
  cause?: unknown;
  exitCode?: ExitCode;
  /** Extra machine-readable fields carried into `--json` error output. */
  details?: Record<string, unknown>;
}

export class DbfastError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: DbfastErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DbfastError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint ?? null, ...this.details };
  }
}

/** A usage or configuration problem: exit code 2. */
export function configError(code: string, message: string, hint?: string, cause?: unknown): DbfastError {
  return new DbfastError(code, message, { hint, cause, exitCode: 2 });
}

export function isDbfastError(error: unknown): error is DbfastError {
  return error instanceof DbfastError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
