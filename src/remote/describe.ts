import type { DbfastConfig } from '../config/types.js';
import { findRemote, remoteTarget } from '../config/targets.js';
import { withClient } from '../pg/client.js';
import { databaseName } from '../pg/target.js';

/** What a run on a remote would replace: shown before anyone confirms it. */
export interface ReplacementTarget {
  remote: string;
  environment: string;
  /** `host:port` of the remote's server (a socket folder for a local socket). */
  server: string;
  database: string;
  /** The live database's size now; null when it cannot be read (it does not exist yet, or no connection). */
  sizeBytes: number | null;
}

function serverOf(url: string): string {
  const parsed = new URL(url);
  const host = parsed.hostname || parsed.searchParams.get('host') || 'the local socket';
  return parsed.port ? `${host}:${parsed.port}` : host;
}

/**
 * Names the database a run on `remoteName` would replace (server, database, size), reading
 * only: one connection to that database for its size, and nothing else. A database that
 * cannot be reached is described without a size rather than refused: the run itself will say
 * why it cannot connect.
 */
export async function describeReplacement(config: DbfastConfig, remoteName: string, env: NodeJS.ProcessEnv = process.env): Promise<ReplacementTarget> {
  const remote = findRemote(config, remoteName);
  const target = remoteTarget(remote, env);
  const sizeBytes = await withClient(target, async (client) => {
    const { rows } = await client.query<{ size: string }>('SELECT pg_database_size(current_database())::text AS size');
    return Number(rows[0]?.size);
  }, { connectTimeoutMs: 10_000 }).catch(() => null);
  return { remote: remote.name, environment: remote.environment, server: serverOf(target.url), database: databaseName(target), sizeBytes };
}
