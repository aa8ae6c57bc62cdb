import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, inject } from 'vitest';
import { parseJson, runCli, type CliResult } from './cli.js';
import { dropDatabase, local, query, remote, uniqueName, urlFor } from './db.js';

/** A role on the remote cluster that logs in over TCP with a scram password, and its own database. */
export interface RemoteAccount {
  role: string;
  password: string;
  database: string;
  /** What goes into dbfast.toml: no password. */
  url: string;
  /** Superuser URL of the same database (unix socket), for set-up and assertions. */
  adminDbUrl: string;
  passwordEnv: string;
}

const roles: string[] = [];
const databases: string[] = [];
const folders: string[] = [];

function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export async function createRemoteAccount(options: { createdb: boolean; prefix?: string }): Promise<RemoteAccount> {
  const role = uniqueName(`${options.prefix ?? 'bk'}_role`);
  // Characters that would break a URL or a shell if the password ever went through one.
  const password = `Pw-${randomBytes(9).toString('hex')}:@/?&'"`;
  const database = uniqueName(options.prefix ?? 'bk');
  await query(remote.adminUrl, `CREATE ROLE "${role}" LOGIN PASSWORD ${literal(password)}${options.createdb ? ' CREATEDB' : ''}`);
  roles.push(role);
  await query(remote.adminUrl, `CREATE DATABASE "${database}" OWNER "${role}"`);
  trackRemoteDatabase(database);
  trackRemoteDatabase(`${database}__dbfast_prev`);
  trackRemoteDatabase(`${database}__dbfast_restore`);
  const host = inject('remoteTcpHost');
  const port = inject('remoteTcpPort');
  return {
    role,
    password,
    database,
    url: `postgresql://${role}@${host}:${port}/${database}`,
    adminDbUrl: urlFor(remote.adminUrl, database),
    passwordEnv: `DBFAST_TEST_PW_${role.toUpperCase()}`,
  };
}

export function trackRemoteDatabase(name: string): void {
  databases.push(name);
}

/** Runs SQL in the account's database as the account itself (so it owns what it creates). */
export async function asAccount(account: RemoteAccount, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({
    host: inject('remoteTcpHost'),
    port: inject('remoteTcpPort'),
    user: account.role,
    password: account.password,
    database: account.database,
  });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

/** A small shop schema with rows, created by the account. */
export async function seedShop(account: RemoteAccount, customers = 50): Promise<void> {
  await asAccount(
    account,
    `CREATE SCHEMA shop;
     CREATE TABLE shop.customer (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, note text);
     CREATE TABLE shop.purchase (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       customer_id bigint NOT NULL REFERENCES shop.customer(id), amount numeric(10,2) NOT NULL);
     CREATE TABLE public."Odd Name" (v text);
     INSERT INTO public."Odd Name" VALUES ('a'), ('b');
     INSERT INTO shop.customer SELECT g, 'c' || g || '@example.com', repeat('x', g % 50) FROM generate_series(1, ${customers}) g;
     INSERT INTO shop.purchase (customer_id, amount) SELECT 1 + g % ${customers}, g * 1.5 FROM generate_series(1, ${customers * 3}) g;`,
  );
}

export interface Project {
  dir: string;
  backupDir: string;
  env: Record<string, string>;
}

export interface ProjectRemote {
  name: string;
  account: RemoteAccount;
  environment?: string;
  requireConfirmation?: boolean;
  noOwner?: boolean;
}

/** A folder with a dbfast.toml that defines the remotes (written directly, as a user would). */
export interface ProjectOptions {
  compression?: string;
  keep?: number;
  /** More `[backup]` keys, written as TOML values (strings quoted). */
  backup?: Record<string, string | number | boolean>;
  /** Replaces `dir = "backups"`. */
  dir?: string;
  /** More environment for every command (e.g. an S3 server's credentials). */
  env?: Record<string, string>;
}

export function writeProject(remotes: ProjectRemote[], options: ProjectOptions = {}): Project {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-backup-test-'));
  folders.push(dir);
  const lines = [
    '[database]',
    `url = "${local.adminUrl}"`,
    '',
    '[repository]',
    'path = "."',
    '',
    '[environments.test]',
    '[environments.production]',
    '',
    '[backup]',
    `dir = ${JSON.stringify(options.dir ?? 'backups')}`,
    `compression = "${options.compression ?? 'zstd'}"`,
  ];
  if (options.keep !== undefined) lines.push(`keep = ${options.keep}`);
  for (const [key, value] of Object.entries(options.backup ?? {})) lines.push(`${key} = ${JSON.stringify(value)}`);
  const env: Record<string, string> = { ...options.env };
  for (const r of remotes) {
    lines.push('', `[remotes.${r.name}]`, `url = "${r.account.url}"`, `password_env = "${r.account.passwordEnv}"`, `environment = "${r.environment ?? 'test'}"`);
    if (r.requireConfirmation) lines.push('require_confirmation = true');
    if (r.noOwner) lines.push('no_owner = true');
    env[r.account.passwordEnv] = r.account.password;
  }
  writeFileSync(path.join(dir, 'dbfast.toml'), `${lines.join('\n')}\n`);
  return { dir, backupDir: path.join(dir, 'backups'), env };
}

/** Every CLI result of a test file, to check that no password ever shows up. */
export const outputs: CliResult[] = [];

export async function cli(project: Project, args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli(args, { cwd: project.dir, env: { ...project.env, ...extraEnv } });
  outputs.push(result);
  return result;
}

/** Runs a command that must succeed (shows its output otherwise) and parses its --json. */
export async function cliJson<T = Record<string, unknown>>(project: Project, args: string[]): Promise<T> {
  const result = await cli(project, ['--json', ...args]);
  if (result.exitCode !== 0) throw new Error(`dbfast ${args.join(' ')} exited ${result.exitCode}:\n${result.stdout}\n${result.stderr}`);
  return parseJson<T>(result);
}

export function filesIn(folder: string): string[] {
  try {
    return readdirSync(folder).sort();
  } catch {
    return [];
  }
}

/** Asserts that neither any CLI output nor any file in the backup folders contains a password. */
export function expectNoPasswordLeak(passwords: string[], folders: string[]): void {
  for (const password of passwords) {
    for (const result of outputs) {
      expect(result.stdout).not.toContain(password);
      expect(result.stderr).not.toContain(password);
    }
    for (const folder of folders) {
      for (const name of filesIn(folder)) {
        if (!name.endsWith('.json')) continue;
        expect(readFileSync(path.join(folder, name), 'utf8')).not.toContain(password);
      }
    }
  }
}

export async function tableCounts(url: string): Promise<Record<string, number>> {
  const rows = await query<{ name: string; n: string }>(
    url,
    `SELECT 'customer' AS name, count(*)::text AS n FROM shop.customer
     UNION ALL SELECT 'purchase', count(*)::text FROM shop.purchase
     UNION ALL SELECT 'odd', count(*)::text FROM public."Odd Name"`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}

afterAll(async () => {
  for (const name of databases.splice(0)) {
    await dropDatabase(remote, name).catch(() => undefined);
  }
  for (const role of roles.splice(0)) {
    await query(remote.adminUrl, `DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
  }
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});
