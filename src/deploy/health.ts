import { setTimeout as sleep } from 'node:timers/promises';
import type { HealthCheckFileConfig } from '../config/schema.js';
import { DbfastError, errorMessage } from '../errors.js';

/** The status a health check waits for unless `expected_status` says otherwise. */
export const DEFAULT_EXPECTED_STATUS = 200;
/** How long a deploy waits for the health check unless `timeout_seconds` says otherwise. */
export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 30;
/** Pause between two attempts while polling. */
const POLL_INTERVAL_MS = 1000;
/** One request may take this long at most (less when the overall deadline is nearer). */
const REQUEST_TIMEOUT_MS = 10_000;

/** A remote's `health_check`, defaults applied. */
export interface HealthCheck {
  url: string;
  expectedStatus: number;
  timeoutSeconds: number;
}

/** What the health check URL answered. */
export interface HealthResult {
  /** The configured URL, with any user:password masked. */
  url: string;
  ok: boolean;
  expectedStatus: number;
  /** HTTP status of the last answer; null when none came (refused, timed out). */
  status: number | null;
  attempts: number;
  elapsedMs: number;
  /** Why the last attempt failed; null when ok. */
  error: string | null;
}

/** The remote's `health_check` with defaults; undefined when none is configured. */
export function resolveHealthCheck(config: HealthCheckFileConfig | undefined): HealthCheck | undefined {
  if (!config) return undefined;
  return {
    url: config.url,
    expectedStatus: config.expected_status ?? DEFAULT_EXPECTED_STATUS,
    timeoutSeconds: config.timeout_seconds ?? DEFAULT_HEALTH_TIMEOUT_SECONDS,
  };
}

/** For printing: credentials in a health URL (https://user:token@...) never show. */
export function maskHttpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

function invalidUrl(url: string): DbfastError | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return undefined;
  } catch {
    // Reported below.
  }
  return new DbfastError('HEALTH_CHECK_URL_INVALID', `health_check.url is not an http(s) URL: ${maskHttpUrl(url)}`, {
    hint: 'Set health_check = { url = "https://app.example.com/health" } under the remote.',
  });
}

/**
 * Asks the configured URL (and only it: redirects are not followed) until it answers with the
 * expected status or `timeoutSeconds` pass. `once`: a single attempt (status reports health
 * now; a deploy waits for the application to come back).
 */
export async function checkHealth(check: HealthCheck, options: { once?: boolean } = {}): Promise<HealthResult> {
  const invalid = invalidUrl(check.url);
  if (invalid) throw invalid;
  const started = Date.now();
  const deadline = started + check.timeoutSeconds * 1000;
  let attempts = 0;
  let status: number | null;
  let error: string;
  for (;;) {
    attempts++;
    const budget = Math.max(1, Math.min(REQUEST_TIMEOUT_MS, deadline - Date.now()));
    try {
      const response = await fetch(check.url, { redirect: 'manual', signal: AbortSignal.timeout(budget), headers: { 'user-agent': 'dbfast health check' } });
      status = response.status;
      await response.body?.cancel().catch(() => undefined);
      if (status === check.expectedStatus) return { url: maskHttpUrl(check.url), ok: true, expectedStatus: check.expectedStatus, status, attempts, elapsedMs: Date.now() - started, error: null };
      error = `answered ${status}, expected ${check.expectedStatus}`;
    } catch (caught) {
      status = null;
      const cause = (caught as { cause?: unknown }).cause;
      error = caught instanceof Error && caught.name === 'TimeoutError' ? `no answer within ${budget} ms` : errorMessage(cause ?? caught);
    }
    if (options.once || Date.now() + POLL_INTERVAL_MS >= deadline) break;
    await sleep(POLL_INTERVAL_MS);
  }
  return { url: maskHttpUrl(check.url), ok: false, expectedStatus: check.expectedStatus, status, attempts, elapsedMs: Date.now() - started, error };
}

/** HEALTH_CHECK_FAILED, saying what the URL answered last. */
export function healthError(result: HealthResult, timeoutSeconds: number): DbfastError {
  return new DbfastError('HEALTH_CHECK_FAILED', `health check ${result.url} failed after ${result.attempts} attempt${result.attempts === 1 ? '' : 's'} in ${timeoutSeconds} s: ${result.error ?? 'unknown'}`, {
    hint: 'Check that the application answers at that URL with the expected status (health_check.expected_status), or raise health_check.timeout_seconds.',
    details: { health: result } });
}
