import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

export interface TestServer {
  /** Superuser URL (unix socket, trust). */
  adminUrl: string;
}

export const local: TestServer = { adminUrl: inject('localPgUrl') };
export const remote: TestServer = { adminUrl: inject('remotePgUrl') };

export function uniqueName(prefix = 't'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** The same server, another database. */
export function urlFor(serverUrl: string, database: string): string {
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

export async function query<R extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const created: Array<{ server: TestServer; name: string }> = [];

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A fresh, uniquely named database, dropped after the file's tests. Returns its URL. */
export async function freshDatabase(server: TestServer = local, prefix = 't'): Promise<{ name: string; url: string }> {
  const name = uniqueName(prefix);
  await query(server.adminUrl, `CREATE DATABASE ${ident(name)}`);
  created.push({ server, name });
  return { name, url: urlFor(server.adminUrl, name) };
}

export async function dropDatabase(server: TestServer, name: string): Promise<void> {
  await query(server.adminUrl, `ALTER DATABASE ${ident(name)} IS_TEMPLATE false`).catch(() => undefined);
  await query(server.adminUrl, `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
}

/** Registers a database some code under test created, so it is dropped after the file. */
export function trackDatabase(server: TestServer, name: string): void {
  created.push({ server, name });
}

/** Databases whose names start with `prefix`. */
export async function databasesLike(server: TestServer, prefix: string): Promise<string[]> {
  const rows = await query<{ datname: string }>(
    server.adminUrl,
    "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname",
    [prefix],
  );
  return rows.map((row) => row.datname);
}

afterAll(async () => {
  for (const { server, name } of created.splice(0)) await dropDatabase(server, name).catch(() => undefined);
});
