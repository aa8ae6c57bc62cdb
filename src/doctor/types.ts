import { ERRORS, type ErrorCode } from '../errors.js';

/** `problem`: something is broken or will break (exit 3); `warning`: works, but worth fixing (exit 0). */
export type FindingSeverity = 'problem' | 'warning';

/** One thing `dbfast doctor` found wrong, and how to fix it. */
export interface DoctorFinding {
  /** A code of the ERRORS table (scripts match on it). */
  code: ErrorCode;
  /** Which check found it: `config`, `local server`, `tools`, `local databases`, `templates`, `backups`, `remote staging`. */
  check: string;
  severity: FindingSeverity;
  message: string;
  /** What to do about it. */
  fix: string;
}

/** One check that ran (or could not), with what it saw. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'problem' | 'warning' | 'skipped';
  detail: string;
}

/** What `dbfast doctor` reports. */
export interface DoctorReport {
  /** No finding of severity `problem`. */
  ok: boolean;
  /** The dbfast.toml checked; null when none was found. */
  configPath: string | null;
  checks: DoctorCheck[];
  findings: DoctorFinding[];
}

/** Collects the checks and findings of one run, in the order they were made. */
export class Diagnosis {
  readonly checks: DoctorCheck[] = [];
  readonly findings: DoctorFinding[] = [];

  ok(name: string, detail: string): void {
    this.checks.push({ name, status: 'ok', detail });
  }

  skipped(name: string, detail: string): void {
    this.checks.push({ name, status: 'skipped', detail });
  }

  /** A finding, and its check's line; `fix` defaults to the code's hint in ERRORS. */
  found(check: string, code: ErrorCode, message: string, fix?: string, severity: FindingSeverity = 'problem'): void {
    const spec = ERRORS[code] as { exit: string; hint?: string };
    this.findings.push({ code, check, severity, message, fix: fix ?? spec.hint ?? '' });
    this.checks.push({ name: check, status: severity, detail: message });
  }
}

/** Appends another diagnosis (one remote's, run in parallel) so the report keeps a stable order. */
export function mergeInto(target: Diagnosis, source: Diagnosis): void {
  target.checks.push(...source.checks);
  target.findings.push(...source.findings);
}

/** `1 template`, `2 templates`. */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** An age in the largest unit that keeps it readable: `42 min`, `5 h`, `3 d`. */
export function ageText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}
