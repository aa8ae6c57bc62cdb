import type pg from 'pg';
import { connect } from '../pg/client.js';
import type { DbTarget } from '../pg/target.js';
import type { LayerFile } from './layers.js';
import { runParallel, type LayerRunContext } from './parallel.js';

/** The files of one layer and how they may run. */
export interface LayerRun {
  files: readonly LayerFile[];
  /** Connections the files may run on at once (1: in order, on one). */
  parallel: number;
}

/**
 * A connection to the side database for running files. Its commits do not wait for the WAL to
 * reach the disk: a template is rebuilt from its files, a crash loses at most the build in
 * progress (WAL is replayed in order, so never half of it), and the build does not pay a flush
 * the user is not waiting for.
 */
export async function connectForBuild(target: DbTarget): Promise<pg.Client> {
  const client = await connect(target, { applicationName: 'dbfast build', runsUserSql: true });
  try {
    await client.query('SET synchronous_commit = off');
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

/** What the runner needs of a layer's files: names, places, and each one's repository (where its includes resolve). */
function plainFiles(files: readonly LayerFile[]): Array<{ relativePath: string; absolutePath: string; root?: string | undefined }> {
  return files.map(({ relativePath, absolutePath, repository }) => ({ relativePath, absolutePath, ...(repository ? { root: repository.root } : {}) }));
}

/**
 * Runs one layer's files into the side database, in a session of its own (so nothing a file set
 * leaks into the next layer, exactly as when the layer runs into a clone of the previous layer's
 * template). `after`, when given, runs on that session once the files are done.
 */
export async function runLayer<T>(ctx: LayerRunContext, layer: LayerRun, after?: (client: pg.Client) => Promise<T>): Promise<T | undefined> {
  const { runFiles } = await import('../sql/index.js');
  // A template holds one database: statements that act on the whole server belong in cluster_setup.
  const common = { runner: ctx.runner, target: ctx.target, pgBinDir: ctx.pgBinDir, logger: ctx.logger, variables: ctx.variables, root: ctx.root, serverWide: 'refuse' as const };
  if (layer.parallel > 1 && layer.files.length > 1) {
    await runParallel({ ...ctx, connect: () => connectForBuild(ctx.target) }, layer.files, layer.parallel);
  } else if (ctx.runner === 'psql') {
    if (layer.files.length > 0) await runFiles(plainFiles(layer.files), common);
  } else {
    const client = await connectForBuild(ctx.target);
    try {
      if (layer.files.length > 0) await runFiles(plainFiles(layer.files), { ...common, client });
      return after ? await after(client) : undefined;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  if (!after) return undefined;
  const client = await connectForBuild(ctx.target);
  try {
    return await after(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The extensions installed in the database `client` is connected to: name -> version. */
export async function readExtensions(client: pg.Client): Promise<Record<string, string>> {
  const result = await client.query<{ extname: string; extversion: string }>('SELECT extname, extversion FROM pg_extension ORDER BY extname');
  return Object.fromEntries(result.rows.map((row) => [row.extname, row.extversion]));
}
