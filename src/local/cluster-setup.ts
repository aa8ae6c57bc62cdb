import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { DbfastConfig, Runner } from '../config/types.js';
import { DbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { quoteIdent } from '../pg/quote.js';
import { withDatabase, type DbTarget } from '../pg/target.js';
import type { ClusterSetupState } from '../sql/cluster-setup.js';
import { dropDatabase, setComment } from '../pg/catalog.js';
import { BUILD_MARKER, encodeComment } from './manifest.js';
import { sideDatabaseName } from './names.js';
import type { EnvironmentPlan } from './plan.js';

/** The server a target is on, without database or password: the key the local record is kept under. */
function serverKey(target: DbTarget): string {
  const url = new URL(target.url);
  url.pathname = '/';
  url.password = '';
  url.searchParams.delete('sslmode');
  return url.toString();
}

/** What cluster setup last ran on each server, kept in `.dbfast/cache/cluster-setup.json` of the project. */
function localState(rootDir: string, target: DbTarget): ClusterSetupState {
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

/** What a build gives the cluster setup: the local server (one connection, its target) and the template being built. */
export interface ClusterSetupContext {
  config: DbfastConfig;
  target: DbTarget;
  client: pg.Client;
  plan: Pick<EnvironmentPlan, 'template'>;
  runner: Runner;
  logger: Logger;
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
  const files = config.repository.clusterSetup.map((relativePath) => ({ relativePath, absolutePath: path.resolve(config.repository.path, relativePath) }));
  for (const file of files) {
    if (!existsSync(file.absolutePath)) {
      throw new DbfastError('CLUSTER_SETUP_MISSING', `[repository] cluster_setup names ${file.relativePath}, which does not exist in ${config.repository.path}`, {
        hint: 'Fix the path in [repository] cluster_setup (relative to the repository folder), or remove it.',
      });
    }
  }
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
      const scratch = sideDatabaseName(plan.template);
      await client.query(`CREATE DATABASE ${quoteIdent(scratch)} TEMPLATE template0`);
      await setComment(client, scratch, encodeComment(BUILD_MARKER, { template: plan.template, startedAt: new Date().toISOString() }));
      return { target: withDatabase(ctx.target, scratch), release: () => dropDatabase(client, scratch) };
    },
  });
}
