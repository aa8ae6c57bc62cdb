import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Runner } from '../config/types.js';
import type { Logger } from '../logger.js';
import { withClient } from '../pg/client.js';
import type { DbTarget } from '../pg/target.js';
import { mayInclude, scanIncludes } from './includes.js';
import { checkFile } from './plan.js';
import { createdRole } from './server-wide.js';
import { repositoryRootOf } from './source.js';
import type { SqlFile } from './types.js';

/** Where the hash of the setup last run on a server is kept (a local file, a table on a remote: the caller's choice). */
export interface ClusterSetupState {
  applied(): Promise<string | undefined>;
  record(hash: string): Promise<void>;
}

export interface ClusterSetupOptions {
  /** A database on the server to run the files in (their server-wide effects are the point). */
  target: DbTarget;
  runner?: Runner | undefined;
  pgBinDir?: string | undefined;
  logger?: Logger | undefined;
  variables?: Record<string, string> | undefined;
  /** Without one the files run every time. */
  state?: ClusterSetupState | undefined;
  /** Run even when the state says this setup already ran. */
  force?: boolean | undefined;
  /** Work out what would run (`upToDate`, `missingRoles`) and run nothing. */
  dryRun?: boolean | undefined;
  /** The repository: includes may not leave it. */
  root?: string | undefined;
  /**
   * Where the files run when they have to (default: `target`): a scratch database, say, so that
   * what they do to their own database (a setup script may drop schemas) touches nothing that stays.
   */
  runIn?: (() => Promise<{ target: DbTarget; release(): Promise<void> }>) | undefined;
}

export interface ClusterSetupResult {
  /** The files ran (false: this setup had run on the server already and the roles it makes exist). */
  ran: boolean;
  files: number;
  /** sha256 of the files (and what they include) and the variables: what `state` records. */
  hash: string;
  /** Roles the files create (`CREATE ROLE name`), checked to exist before a run is skipped. */
  roles: string[];
  /** Those of `roles` the server does not have (before the run). */
  missingRoles: string[];
  /** This setup already ran on the server and its roles exist: nothing runs (unless forced). */
  upToDate: boolean;
}

/** The files and every file they include, in order, each once. */
async function withIncludes(files: SqlFile[], root: string): Promise<SqlFile[]> {
  const seen = new Set<string>();
  const out: SqlFile[] = [];
  const visit = async (file: SqlFile): Promise<void> => {
    const absolutePath = path.resolve(file.absolutePath);
    if (seen.has(absolutePath)) return;
    seen.add(absolutePath);
    out.push(file);
    if (!(await mayInclude(absolutePath))) return;
    for (const include of await scanIncludes(file, file.root ?? root)) await visit({ ...include, root: file.root });
  };
  for (const file of files) await visit(file);
  return out;
}

/**
 * sha256 of the setup's files (and what they include) and its variables: what a server's record
 * holds. The runner is not in it (both run the same statements with the same variables, so a
 * switch of `[repository] runner` is not a change); `runner` only reproduces older records.
 */
function setupDigest(contents: ReadonlyArray<{ relativePath: string; bytes: Buffer }>, input: { runner?: string; variables: Record<string, string> }): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(input.runner === undefined ? { variables: input.variables } : { runner: input.runner, variables: input.variables }));
  for (const file of contents) {
    hash.update(`\0${file.relativePath}\0`);
    hash.update(file.bytes);
  }
  return hash.digest('hex');
}

async function missingRoles(target: DbTarget, roles: string[]): Promise<string[]> {
  if (roles.length === 0) return [];
  const rows = await withClient(target, (client) => client.query<{ rolname: string }>('SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY($1)', [roles]));
  const present = new Set(rows.rows.map((row) => row.rolname));
  return roles.filter((role) => !present.has(role));
}

/**
 * Runs the repository's cluster setup (roles, role membership, server settings: what acts on
 * the whole server) idempotently: the files run when what they hold (with the variables) differs
 * from what `state` says last ran on this server, or a role they create is missing; otherwise
 * nothing runs, so `DROP ROLE` / `CREATE ROLE` scripts do not fail once databases use the roles.
 */
export async function runClusterSetup(files: SqlFile[], options: ClusterSetupOptions): Promise<ClusterSetupResult> {
  const first = files[0];
  const root = options.root ?? (first ? repositoryRootOf(path.resolve(first.absolutePath), first.relativePath) : process.cwd());
  const contents: Array<{ relativePath: string; bytes: Buffer }> = [];
  for (const file of await withIncludes(files, root)) contents.push({ relativePath: file.relativePath, bytes: await readFile(file.absolutePath) });
  const digest = setupDigest(contents, { variables: options.variables ?? {} });
  // Records written before the runner was left out of the hash name it: either runner's counts,
  // so upgrading dbfast never runs a DROP ROLE script again on a server whose databases use the roles.
  const known = [digest, ...(['inprocess', 'psql'] as const).map((runner) => setupDigest(contents, { runner, variables: options.variables ?? {} }))];
  const roles: string[] = [];
  for (const file of files) {
    await checkFile(file, { runner: options.runner ?? 'inprocess', serverWide: 'allow', root }, undefined, async (steps) => {
      for (const step of steps) {
        const role = step.kind === 'statement' ? createdRole(step.statement.words, step.statement.text) : undefined;
        if (role !== undefined && !roles.includes(role)) roles.push(role);
      }
      return true;
    });
  }
  const missing = await missingRoles(options.target, roles);
  const applied = options.state ? await options.state.applied() : undefined;
  const upToDate = applied !== undefined && known.includes(applied) && missing.length === 0;
  const result: ClusterSetupResult = { ran: false, files: files.length, hash: digest, roles, missingRoles: missing, upToDate };
  if (options.dryRun) return result;
  if (!options.force && upToDate) {
    options.logger?.debug(`cluster setup unchanged since it last ran on this server (${files.length} files)`);
    return result;
  }
  // The runners themselves, not index.ts (which exports this module): loaded only when the setup runs.
  const runFiles = options.runner === 'psql' ? (await import('./psql.js')).runFilesWithPsql : (await import('./inprocess.js')).runFilesInProcess;
  const place = options.runIn ? await options.runIn() : { target: options.target, release: async () => undefined };
  try {
    await runFiles(files, { target: place.target, runner: options.runner, pgBinDir: options.pgBinDir, logger: options.logger, variables: options.variables, root });
  } finally {
    await place.release();
  }
  await options.state?.record(digest);
  options.logger?.info(`ran the cluster setup (${files.map((file) => file.relativePath).join(', ')})`);
  return { ...result, ran: true };
}
