import type { DbfastErrorJson } from '../../src/errors.js';
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { parseJson, PROJECT_ROOT, type CliResult } from './cli.js';
import { query, remote, urlFor } from './db.js';
import { asAccount, cli, createRemoteAccount, type RemoteAccount } from './backup.js';
import { writeDeployProject, type DeployProject, type DeployRemote } from './deploy.js';

export const FIRST = '6_migration/001_add_customer_phone.sql';

/** The fixture's schema files, run on the remote as the account (so it owns the objects). */
export async function loadAppSchema(account: RemoteAccount): Promise<void> {
  const dir = path.join(PROJECT_ROOT, 'fixtures/app/db/0_schema');
  for (const name of readdirSync(dir).sort()) await asAccount(account, readFileSync(path.join(dir, name), 'utf8'));
}

/** A remote account with the app schema, and a project whose "production" remote points at it. */
export async function productionProject(
  options: { prefix: string; remote?: Partial<DeployRemote>; productionDirectories?: string[] },
): Promise<{ account: RemoteAccount; project: DeployProject }> {
  const account = await createRemoteAccount({ createdb: true, prefix: options.prefix });
  await loadAppSchema(account);
  const project = writeDeployProject(
    [{ name: 'production', account, environment: 'production', allowDestructive: false, ...options.remote }],
    { productionDirectories: options.productionDirectories },
  );
  return { account, project };
}

export function writeMigration(project: DeployProject, name: string, sql: string): string {
  writeFileSync(path.join(project.repo, '6_migration', name), sql);
  return `6_migration/${name}`;
}

export function removeMigration(project: DeployProject, id: string): void {
  unlinkSync(path.join(project.repo, id));
}

export interface Row {
  id: string;
  status: string;
  sha256: string;
  error: string | null;
  run_id: string | null;
}

export async function migrationRows(account: RemoteAccount): Promise<Row[]> {
  if (!(await hasDbfastSchema(account))) return [];
  return query<Row>(account.adminDbUrl, 'SELECT id, status, sha256, error, run_id FROM dbfast.migrations ORDER BY applied_at, id');
}

export async function hasDbfastSchema(account: RemoteAccount): Promise<boolean> {
  return (await query(account.adminDbUrl, "SELECT 1 FROM pg_namespace WHERE nspname = 'dbfast'")).length > 0;
}

export async function tableExists(account: RemoteAccount, name: string): Promise<boolean> {
  return (await query<{ ok: boolean }>(account.adminDbUrl, 'SELECT to_regclass($1) IS NOT NULL AS ok', [name]))[0]?.ok === true;
}

export async function columnExists(account: RemoteAccount, table: string, column: string): Promise<boolean> {
  const rows = await query(account.adminDbUrl, `SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped`, [table, column]);
  return rows.length > 0;
}

/** Runs a CLI command with --json that must exit `code`; returns its parsed output. */
export async function json<T = Record<string, unknown>>(project: DeployProject, args: string[], code = 0): Promise<{ body: T; result: CliResult }> {
  const result = await cli(project, ['--json', ...args]);
  expect(result.exitCode, `dbfast ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(code);
  return { body: parseJson<T>(result), result };
}

export interface ErrorBody {
  error: DbfastErrorJson;
}

/** The superuser of the remote cluster, connected to `postgres`: where dbfast takes its database locks. */
export async function holdDatabaseLock(database: string): Promise<() => Promise<void>> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: urlFor(remote.adminUrl, 'postgres') });
  await client.connect();
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`dbfast:database:${database}`]);
  return async () => {
    await client.end();
  };
}
