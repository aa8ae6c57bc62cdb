import { withDatabase, type DbTarget } from '../pg/target.js';
import { MANAGED_PASSWORD_SOURCE } from '../server/record.js';
import type { LeaseRecord } from './release.js';
import type { Lease, LeaseConnection, ReleaseOptions, ReleaseResult } from './types.js';

/**
 * The password an application needs: the one the configuration gives. The managed server's own
 * (for TCP) stays out: its socket needs none, and a URL goes into test logs and env files.
 */
function givenPassword(target: DbTarget): string | undefined {
  return target.settings.sources.password === MANAGED_PASSWORD_SOURCE ? undefined : target.password;
}

/** The database's URL with the configured password put back in, for the application's driver (never printed by dbfast). */
export function connectableUrl(target: DbTarget, database: string): string {
  const url = new URL(withDatabase(target, database).url);
  const password = givenPassword(target);
  if (password !== undefined) url.password = password;
  return url.toString();
}

export function connectionFields(target: DbTarget, database: string): LeaseConnection {
  // The one resolver's settings (pg/connection.ts): host (or socket folder), port and user as libpq would use them.
  const { host, port, user } = target.settings;
  return { host, port, user, password: givenPassword(target), database };
}

/** The caller's handle on a claimed database; its name is the one it had when handed out. */
export function makeLease(target: DbTarget, record: LeaseRecord, release: (record: LeaseRecord, options?: ReleaseOptions) => Promise<ReleaseResult>): Lease {
  const database = record.name;
  return {
    database,
    url: connectableUrl(target, database),
    connection: connectionFields(target, database),
    template: { name: record.build.name, environment: record.build.environment, builtAt: record.build.builtAt },
    release: (options?: ReleaseOptions): Promise<ReleaseResult> => release(record, options),
  };
}

interface Waiter {
  wake(): void;
  fail(error: unknown): void;
}

/** lease() calls waiting for a ready database: woken to look again, failed together, or timed out one by one. */
export class LeaseWaiters {
  private waiters: Waiter[] = [];

  get count(): number {
    return this.waiters.length;
  }

  /** Resolves on the next wake(); rejects on fail() or, at `deadline`, with `timeoutError()`. */
  wait(deadline: number, timeoutError: () => Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((entry) => entry !== waiter);
        reject(timeoutError());
      }, Math.max(0, deadline - Date.now()));
      this.waiters.push(waiter);
    });
  }

  wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter.wake();
  }

  fail(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.fail(error);
  }
}
