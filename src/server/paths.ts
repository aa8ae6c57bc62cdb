import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { DbfastError } from '../errors.js';

/**
 * Where the managed server lives. Everything here is computed from the environment alone (no
 * file-system access), because the hot path of every `dbfast seed` goes through it.
 *
 * - `DBFAST_SERVER_DIR` when set;
 * - as root, `/var/lib/dbfast/server`: the server runs as an unprivileged OS user, which must be
 *   able to reach its data directory, and root's home (`/root`, mode 0700) is closed to it;
 * - else `$XDG_DATA_HOME/dbfast/server`, default `~/.local/share/dbfast/server`.
 */
export interface ServerRoot {
  dir: string;
  /** Which rule chose it, for `server status` and error messages. */
  source: 'DBFAST_SERVER_DIR' | 'root default' | 'XDG_DATA_HOME' | 'home';
}

/** The folder root uses when DBFAST_SERVER_DIR is not set. */
export const ROOT_SERVER_DIR = '/var/lib/dbfast/server';

/** Whether dbfast runs as root (the server must then run as another user). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The folder holding the managed servers, by the rules above. */
export function serverRoot(env: NodeJS.ProcessEnv = process.env): ServerRoot {
  if (env.DBFAST_SERVER_DIR) return { dir: path.resolve(env.DBFAST_SERVER_DIR), source: 'DBFAST_SERVER_DIR' };
  if (isRoot()) return { dir: ROOT_SERVER_DIR, source: 'root default' };
  if (env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME)) {
    return { dir: path.join(env.XDG_DATA_HOME, 'dbfast', 'server'), source: 'XDG_DATA_HOME' };
  }
  return { dir: path.join(env.HOME || os.homedir(), '.local', 'share', 'dbfast', 'server'), source: 'home' };
}

/** The pointer to the server started last: what the hot path reads. */
export function stateFile(root: string): string {
  return path.join(root, 'state.json');
}

/** What the lock is taken on: the lock itself is the folder `<root>/server.lock`. */
export function lockTarget(root: string): string {
  return path.join(root, 'server');
}

/** Files of one server (one PostgreSQL major) under the root. */
export interface MajorPaths {
  /** `<root>/<major>`: owned by the server's OS user, mode 0700. */
  dir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  /** Superuser password for TCP (scram), 0600, owned by whoever runs dbfast. */
  passwordFile: string;
  /** The same password in libpq's pgpass format, for `PGPASSFILE=... psql`. */
  pgpassFile: string;
  /** Port, durability, binaries: the server's own record (also dbfast's marker for `destroy`). */
  recordFile: string;
}

/** A unix socket path must fit in sun_path (104 bytes on macOS, 108 on Linux), port and NUL included. */
const SOCKET_PATH_LIMIT = 100;

/** The files of the server of one major under `root`; the socket moves to /tmp when its path would be too long. */
export function majorPaths(root: string, major: number): MajorPaths {
  const dir = path.join(root, String(major));
  let socketDir = path.join(dir, 'socket');
  if (path.join(socketDir, '.s.PGSQL.65535.lock').length > SOCKET_PATH_LIMIT) {
    // A deep server folder: the socket goes to a short folder of its own, named after the server's.
    const hash = createHash('sha256').update(dir).digest('hex').slice(0, 12);
    socketDir = path.join('/tmp', `dbfast-${hash}`);
  }
  return {
    dir,
    dataDir: path.join(dir, 'data'),
    socketDir,
    logFile: path.join(dir, 'server.log'),
    passwordFile: path.join(dir, 'password'),
    pgpassFile: path.join(dir, 'pgpass'),
    recordFile: path.join(dir, 'dbfast-server.json'),
  };
}

/** Leftovers of an initdb that never finished start with this (they are never the live data directory). */
export const INITDB_PREFIX = 'data.initdb-';

/** The port a new server of this major tries first: below every OS's ephemeral range, one per major. */
export function preferredPort(major: number): number {
  return 25400 + (major % 100);
}

/**
 * What in a path a POSIX shell would act on inside double quotes: pg_ctl and initdb run the
 * server through /bin/sh with every path in "..." (pg_ctl's `exec "postgres" -D "<data>" >>
 * "<log>"`), so a `$(...)` or backtick in the server's folder would run as a command, and a `"`
 * or `\` would end or bend the quoting. Undefined when the path is safe.
 */
export function shellUnsafe(file: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  const found = /[$`"\\\u0000-\u001f\u007f]/.exec(file)?.[0];
  if (found === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- the same characters as above
  return /[\u0000-\u001f\u007f]/.test(found) ? 'a control character' : `the character ${found}`;
}

/** The setting that put the managed server where it is, for messages that tell what to change. */
export function rootSetting(source: ServerRoot['source']): string {
  return { DBFAST_SERVER_DIR: 'DBFAST_SERVER_DIR', 'root default': 'DBFAST_SERVER_DIR', XDG_DATA_HOME: 'XDG_DATA_HOME', home: 'HOME' }[source];
}

/**
 * Refuses a path that /bin/sh would act on (see shellUnsafe): pg_ctl and initdb pass paths
 * through a shell, so `$(...)` in a folder's name would run as a command. `setting` is what the
 * user changes to fix it.
 */
export function refuseShellUnsafe(file: string, setting: string, what: string): void {
  const unsafe = shellUnsafe(file);
  if (unsafe === undefined) return;
  throw new DbfastError('SERVER_DIR_UNSAFE', `${what} ${JSON.stringify(file)} (${setting}) contains ${unsafe}; PostgreSQL's pg_ctl and initdb pass paths through /bin/sh, where it would run as a command or break the quoting, so dbfast refuses it`, {
    hint: `Set ${setting} to a folder whose path has no $, \`, ", \\ or control characters.`,
    details: { path: file, setting } });
}
