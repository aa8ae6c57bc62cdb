import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, inject } from 'vitest';
import { runCli, type CliResult } from './cli.js';
import { query, remote, uniqueName } from './db.js';

const projects: string[] = [];
const roles: string[] = [];
const databases: string[] = [];

/** A temp folder with the given dbfast.toml; removed after the file's tests. */
export function project(toml: string): { dir: string; file: string; read: () => string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dbfast-remote-'));
  projects.push(dir);
  const file = path.join(dir, 'dbfast.toml');
  writeFileSync(file, toml);
  return { dir, file, read: () => readFileSync(file, 'utf8') };
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export interface ScramRole {
  name: string;
  password: string;
  /** postgresql://role@127.0.0.1:PORT/DB (no password). */
  urlFor(database: string): string;
}

/** A login role with a scram password on the remote cluster (TCP needs scram there). */
export async function scramRole(attributes = ''): Promise<ScramRole> {
  const name = uniqueName('role');
  const password = `pw-${randomBytes(9).toString('hex')}`;
  await query(remote.adminUrl, `CREATE ROLE ${ident(name)} LOGIN ${attributes} PASSWORD '${password}'`);
  roles.push(name);
  const host = inject('remoteTcpHost');
  const port = inject('remoteTcpPort');
  return { name, password, urlFor: (database) => `postgresql://${name}@${host}:${port}/${database}` };
}

/** A database on the remote cluster, owned by `owner` (default the superuser). */
export async function remoteDatabase(owner?: string): Promise<string> {
  const name = uniqueName('rdb');
  await query(remote.adminUrl, `CREATE DATABASE ${ident(name)}${owner ? ` OWNER ${ident(owner)}` : ''}`);
  databases.push(name);
  return name;
}

/** Runs the CLI in a project folder with a clean password environment. */
export function cli(dir: string, args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: { PGPASSWORD: undefined, PGPASSFILE: undefined, PGSSLMODE: undefined, DBFAST_CONFIG: undefined, ...env } });
}

afterAll(async () => {
  for (const name of databases.splice(0)) await query(remote.adminUrl, `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`).catch(() => undefined);
  for (const name of roles.splice(0)) await query(remote.adminUrl, `DROP ROLE IF EXISTS ${ident(name)}`).catch(() => undefined);
  for (const dir of projects.splice(0)) rmSync(dir, { recursive: true, force: true });
});
