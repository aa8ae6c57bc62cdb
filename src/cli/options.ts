import { InvalidArgumentError, Option } from 'commander';

/*
 * Typed parsers for option values, given to commander (`.option(flags, text, parser)` or
 * `Option.argParser`). A bad value stops the command before anything runs: commander reports
 * `option '-j, --jobs <n>' argument 'x' is invalid. <reason>`, which renderError prints (or puts
 * in --json) as a USAGE error, exit 2. The reason says what would have been right.
 */

/** A whole number as a person types it: digits only (Number() would also take `1e1`, `0x10`, ` 3`, `1.0`). */
const DIGITS = /^\d+$/;

/** A whole number of at least `min`: `--jobs 2`, `--limit 20`. */
export function wholeNumber(min = 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!DIGITS.test(value) || n < min) throw new InvalidArgumentError(`Expected a whole number of at least ${min}.`);
    return n;
  };
}

/**
 * `--size N` of a pool: the rule of DBFAST_POOL_SIZE and `[pool] size` (pool/settings.ts
 * parsePoolSize: digits only, 0 to 64), which the library checks again.
 */
export const poolSize = (value: string): number => wholeNumberIn(0, 64)(value);

/** A whole number from `min` to `max`: `--port 5433`. */
export function wholeNumberIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!DIGITS.test(value) || n < min || n > max) throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** Seconds, possibly fractional, at least 0, as milliseconds: `--lock-timeout 60` -> 60000. */
export function secondsAsMs(value: string): number {
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) throw new InvalidArgumentError('Expected seconds (a number of at least 0), e.g. 60.');
  return Math.round(seconds * 1000);
}

/** A number greater than 0 (`--keep-days 7.5`). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('Expected a number greater than 0.');
  return n;
}

const AGE = /^\s*(\d+)\s*([mhdw])\s*$/i;

/** An age as the library takes it (`90m`, `12h`, `30d`, `2w`), checked here so the flag is named. */
export function age(value: string): string {
  if (!AGE.test(value)) throw new InvalidArgumentError('Expected a number and a unit: 90m, 12h, 30d or 2w.');
  return value.trim();
}

/** A name-like value that must not look like another option (`--remote --confirm` is a mistake). */
export function name(value: string): string {
  if (value === '' || value.startsWith('-')) throw new InvalidArgumentError('Expected a name, not an option or nothing.');
  return value;
}

/** A repeatable option (`--group a --group b`): each value through `parse`, collected in order. Give `[]` as the default. */
export function repeatable<T>(parse: (value: string) => T): (value: string, previous: T[]) => T[] {
  return (value, previous) => [...previous, parse(value)];
}

/**
 * An option limited to `choices`, typed as their union; commander lists the choices in help
 * and in the error. `flags` as for `.option`, e.g. `--mode <mode>`.
 */
export function choiceOption<const T extends readonly string[]>(flags: string, description: string, choices: T): Option {
  return new Option(flags, description).choices(choices);
}

/** The remote option every remote command takes, spelled the same everywhere. */
export function remoteOption(required = true, description = 'remote (see `dbfast remote list`)'): Option {
  const option = new Option('-r, --remote <name>', description).argParser(name);
  return required ? option.makeOptionMandatory() : option;
}

/** `-e, --env <name>`, the same on every command that takes an environment. */
export function envOption(description = 'environment'): Option {
  return new Option('-e, --env <name>', description).argParser(name);
}

/** `--lock-timeout <seconds>` (as ms in `lockTimeout`). */
export function lockTimeoutOption(description = 'give up when another operation holds the lock this long'): Option {
  return new Option('--lock-timeout <seconds>', description).argParser(secondsAsMs);
}

/** `--confirm`: go ahead where the library asks for confirmation (production, require_confirmation), without a prompt. */
export function confirmOption(description = 'confirm (production, require_confirmation) without a prompt'): Option {
  return new Option('--confirm', description);
}

/** `-y, --yes`, the short spelling of --confirm. */
export function yesOption(): Option {
  return new Option('-y, --yes', 'same as --confirm');
}
