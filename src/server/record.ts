import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { targetFromUrl, type DbTarget } from '../pg/target.js';
import type { BinariesOrigin } from './binaries.js';
import { majorPaths, stateFile, type MajorPaths } from './paths.js';

/** One server's own record, `<root>/<major>/dbfast-server.json`: also what marks the folder as dbfast's. */
export interface ServerRecord {
  major: number;
  version: string;
  origin: BinariesOrigin;
  binDir: string;
  foundBy: string;
  port: number;
  durable: boolean;
  /** The OS user the server runs as. */
  osUser: string;
  createdAt: string;
}

/** Everything about the managed server a command needs: `<root>/state.json` is this for the one started last. */
export interface ManagedServer extends ServerRecord, MajorPaths {
  root: string;
}

/** The full description of a server from its record. */
export function managedServer(root: string, record: ServerRecord): ManagedServer {
  return { root, ...record, ...majorPaths(root, record.major) };
}

/** A JSON file's contents, or undefined when it is missing or unreadable. */
export function readJsonFile<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Written aside and renamed, so a reader never sees half a file. */
export async function writeJsonFile(file: string, data: unknown, mode = 0o644): Promise<void> {
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}`);
  await writeFile(partial, `${JSON.stringify(data, null, 2)}\n`, { mode });
  await rename(partial, file);
}

/** The record of the server of `major` under `root`, if it was ever set up. */
export function readRecord(root: string, major: number): ServerRecord | undefined {
  return readJsonFile<ServerRecord>(majorPaths(root, major).recordFile);
}

/** The server started last under `root`, as recorded (running or not). */
export function readState(root: string): ManagedServer | undefined {
  const state = readJsonFile<ManagedServer>(stateFile(root));
  return state && typeof state.port === 'number' && typeof state.dataDir === 'string' ? state : undefined;
}

/** The server's password (for TCP); undefined when the file is unreadable. */
export function readPassword(server: Pick<ManagedServer, 'passwordFile'>): string | undefined {
  try {
    return readFileSync(server.passwordFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The superuser over the unix socket: no password needed (trust in a 0700 folder), and faster
 * than TCP. The password comes along for anyone who switches pg_hba.conf to ask for one.
 */
export function socketUrl(server: Pick<ManagedServer, 'port' | 'socketDir'>, database = 'postgres'): string {
  return `postgresql://postgres@localhost:${server.port}/${encodeURIComponent(database)}?host=${encodeURIComponent(server.socketDir)}`;
}

/** Over TCP on the loopback (scram): the password is in pgpassFile, never in the URL. */
export function tcpUrl(server: Pick<ManagedServer, 'port'>, database = 'postgres'): string {
  return `postgresql://postgres@127.0.0.1:${server.port}/${encodeURIComponent(database)}`;
}

/** dbfast's own connection to the server: the socket URL, and the password for anyone who asks for one. */
export function serverTarget(server: ManagedServer, database = 'postgres'): DbTarget {
  const target = targetFromUrl(socketUrl(server, database), readPassword(server));
  // Marked, so that URLs handed to applications (leases) leave it out: the socket needs none.
  if (target.password !== undefined) target.settings.sources.password = MANAGED_PASSWORD_SOURCE;
  return target;
}

/** Where a managed server target's password comes from (its password file), as `sources.password` says. */
export const MANAGED_PASSWORD_SOURCE = "the managed server's password file";
