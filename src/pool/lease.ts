import { withDatabase, type DbTarget } from '../pg/target.js';
import type { LeaseRecord } from './release.js';
import type { Lease, LeaseConnection, ReleaseOptions, ReleaseResult } from './types.js';

/** The database's URL with the password put back in, for the application's driver (never printed by dbfast). */
export function connectableUrl(target: DbTarget, database: string): string {
  const url = new URL(withDatabase(target, database).url);
  if (target.password !== undefined) url.password = target.password;
  return url.toString();
}

export function connectionFields(target: DbTarget, database: string): LeaseConnection {
  // The one resolver's settings (pg/connection.ts): host (or socket folder), port and user as libpq would use them.
  const { host, port, user } = target.settings;
  return { host, port, user, password: target.password, database };
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
