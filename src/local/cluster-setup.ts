import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { locateFile } from '../config/repositories.js';
import type { DbfastConfig, Runner } from '../config/types.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import type { ClusterSetupState } from '../sql/cluster-setup.js';
import { dropDatabase } from '../pg/catalog.js';
import type { ProjectOwner } from './owner.js';
import { createSideDatabase } from './side.js';
import type { EnvironmentPlan } from './plan.js';

/** The server a target is on, without database or password: the key the local record is kept under. */
function serverKey(target: DbTarget): string {
  const url = new URL(target.url);
  url.pathname = '/';
  url.password = '';
  url.searchParams.delete('sslmode');
  return url.toString();
}

/**
 * What cluster setup last ran on each server (the local one, or a remote `dbfast remote setup`
 * ran on), kept in `.dbfast/cache/cluster-setup.json` of the project under the server's URL.
 */
export function localState(rootDir: string, target: DbTarget): ClusterSetupState {
  const file = path.join(rootDir, '.dbfast', 'cache', 'cluster-setup.json');
  const key = serverKey(target);
  const read = (): Record<string, string> => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  return {
    applied: async () => read()[key],
    record: async (hash) => {
      mkdirSync(path.dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify({ ...read(), [key]: hash }));
      renameSync(temp, file);
    },
  };
}

/** The files of `[repository] cluster_setup`, each checked to exist (CLUSTER_SETUP_MISSING names the one that does not). */
export function clusterSetupFiles(config: DbfastConfig): Array<{ relativePath: string; absolutePath: string; root: string }> {
  // `core:roles.sql` is in repository core (with several, every entry names its repository).
  const files = config.repository.clusterSetup.map((relativePath) => {
    const { root, absolutePath } = locateFile(config.repositories, relativePath);
    return { relativePath, absolutePath, root };
  });
  for (const file of files) {
    if (!existsSync(file.absolutePath)) {
      throw new DbfastError('CLUSTER_SETUP_MISSING', `[repository] cluster_setup names ${file.relativePath}, which does not exist in ${file.root}`, {
        hint: 'Fix the path in [repository] cluster_setup (relative to the repository folder), or remove it.',
      });
    }
  }
  return files;
}

/** What a build gives the cluster setup: the local server (one connection, its target) and the template being built. */
export interface ClusterSetupContext {
  config: DbfastConfig;
  target: DbTarget;
  client: pg.Client;
  plan: Pick<EnvironmentPlan, 'template'>;
  runner: Runner;
  logger: Logger;
  /** The project its scratch database is named for. */
  owner: ProjectOwner;
}

/**
 * Runs `[repository] cluster_setup` on the local server before a build, when it changed since it
 * last ran there (or a role it creates is missing). The files run in a scratch database named
 * and marked like a build's side database (so an interrupted one is cleaned up by the next
 * build), dropped afterwards: their server-wide effects are what stays.
 */
export async function ensureClusterSetup(ctx: ClusterSetupContext): Promise<void> {
  const { config, client, plan } = ctx;
  if (config.repository.clusterSetup.length === 0) return;
  const files = clusterSetupFiles(config);
  const { runClusterSetup } = await import('../sql/cluster-setup.js');
  await runClusterSetup(files, {
    target: ctx.target,
    runner: ctx.runner,
    pgBinDir: config.tools.pgBinDir,
    logger: ctx.logger,
    // The server's setup is one for every environment: [repository] variables only.
    variables: config.repository.variables,
    root: config.repository.path,
    state: localState(config.rootDir, ctx.target),
    runIn: async () => {
      // A side database of the template's, named as this project's from its first moment: if
      // this process dies, the next command recognises it as a leftover and drops it.
      const scratch = await createSideDatabase(client, ctx.target, { base: plan.template, kind: 'build', owner: ctx.owner, source: 'template0' });
      return {
        target: withDatabase(ctx.target, scratch.name),
        release: async () => {
          try {
            await dropDatabase(client, scratch.name);
          } finally {
            await scratch.release();
          }
        },
      };
    },
  });
}
