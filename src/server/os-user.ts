import { chown, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isRoot } from './paths.js';

/** The OS user the server runs as when dbfast runs as root (PostgreSQL refuses to run as root). */
export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** The user dbfast creates when root has neither DBFAST_SERVER_USER nor a `postgres` user. */
const CREATED_USER = 'dbfast';

async function lookup(name: string): Promise<RunAs | undefined> {
  const id = async (flag: string): Promise<number | undefined> => {
    const result = await execa('id', [flag, '--', name], { reject: false });
    return result.exitCode === 0 ? Number(result.stdout.trim()) : undefined;
  };
  const [uid, gid] = await Promise.all([id('-u'), id('-g')]);
  return uid === undefined || gid === undefined ? undefined : { name, uid, gid };
}

async function createSystemUser(logger: Logger): Promise<RunAs> {
  logger.info(`creating the system user "${CREATED_USER}" to run the managed PostgreSQL server (it refuses to run as root)`);
  const attempts: Array<[string, string[]]> = [
    ['useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', CREATED_USER]],
    ['adduser', ['-S', '-D', '-H', '-h', '/nonexistent', '-s', '/sbin/nologin', CREATED_USER]],
  ];
  const failures: string[] = [];
  for (const [command, args] of attempts) {
    const result = await execa(command, args, { reject: false });
    if (result.exitCode === 0) break;
    failures.push(`${command}: ${String(result.stderr || result.message || 'failed').split('\n')[0]}`);
  }
  const created = await lookup(CREATED_USER);
  if (created) return created;
  throw new DbfastError('SERVER_USER_MISSING', `cannot create an OS user to run the managed PostgreSQL server as (${failures.join('; ')})`, {
    hint: 'PostgreSQL refuses to run as root. Create an unprivileged user (useradd --system postgres) or set DBFAST_SERVER_USER to one that exists.',
  });
}

/**
 * Undefined when dbfast is not root (the server runs as the current user). As root:
 * DBFAST_SERVER_USER, else `postgres` when it exists (the test harness's and Debian's choice),
 * else a system user `dbfast`, created once.
 */
export async function serverRunAs(env: NodeJS.ProcessEnv, logger: Logger): Promise<RunAs | undefined> {
  if (!isRoot()) return undefined;
  const wanted = env.DBFAST_SERVER_USER;
  if (wanted) {
    const found = await lookup(wanted);
    if (!found) {
      throw new DbfastError('SERVER_USER_MISSING', `DBFAST_SERVER_USER names "${wanted}", which is not an OS user here`, {
        hint: 'Set DBFAST_SERVER_USER to an existing unprivileged user, or unset it to use `postgres`.',
      });
    }
    if (found.uid === 0) {
      throw new DbfastError('SERVER_USER_MISSING', `DBFAST_SERVER_USER names "${wanted}", which is root (uid 0); PostgreSQL refuses to run as root`, {
        hint: 'Name an unprivileged user.',
      });
    }
    return found;
  }
  return (await lookup('postgres')) ?? (await lookup(CREATED_USER)) ?? createSystemUser(logger);
}

/** Hands a path dbfast created to the server's user (no-op when not root). */
export async function giveTo(runAs: RunAs | undefined, file: string): Promise<void> {
  if (runAs) await chown(file, runAs.uid, runAs.gid);
}

/**
 * The first folder on the way to `target` that `runAs` may not pass through (no x bit for it), or
 * undefined. Supplementary groups are not considered, so this errs on the side of refusing.
 */
export async function blockedAncestor(runAs: RunAs, target: string): Promise<{ dir: string; mode: string } | undefined> {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  let dir: string = path.sep;
  for (const part of ['', ...parts]) {
    dir = part ? path.join(dir, part) : dir;
    const info = await stat(dir).catch(() => undefined);
    if (!info) return undefined; // not created yet: dbfast creates it with modes that let the user in
    const bit = info.uid === runAs.uid ? 0o100 : info.gid === runAs.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) return { dir, mode: (info.mode & 0o777).toString(8).padStart(4, '0') };
  }
  return undefined;
}
