import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { Runner } from '../config/types.js';
import type { Logger } from '../logger.js';
import type { DbTarget } from '../pg/target.js';
import type { LayerFile } from './layers.js';

/**
 * `parallel = true` for a layer whose files only load rows: they run on several connections at
 * once, the way `pg_restore -j` loads table data, each file in a transaction of its own. The
 * result is the one running them in order would give, because a file waits for every earlier
 * file it could depend on:
 * - files loading the same table (or partitions of one) keep their order;
 * - a file loading a table with a foreign key to a table an earlier file loads waits for it
 *   (keys are read from the catalog, after the layers below exist);
 * - a file that does anything but load rows (DDL, UPDATE, a meta-command, a table name that
 *   cannot be resolved) is a barrier: it runs alone, after everything before it.
 * What is left are loads the order of which cannot matter unless triggers write across tables,
 * which is why this is opt-in. Each file starts from the database's default settings (nothing
 * one file SETs reaches another, whichever connection runs it).
 */

/** Statements a loading file may hold besides COPY ... FROM stdin and INSERT (pg_dump's preamble, setval). */
const HARMLESS = new Set(['SET', 'RESET', 'SELECT']);
const TARGET = /^\s*(?:COPY|INSERT\s+INTO)\s+((?:ONLY\s+)?(?:"(?:[^"]|"")+"|[\p{L}_][\p{L}\p{N}_$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\p{L}_][\p{L}\p{N}_$]*))?)/iu;

interface FileAnalysis {
  /** Table names as written (COPY / INSERT INTO targets). */
  targets: string[];
  barrier: boolean;
}

async function analyse(file: LayerFile): Promise<FileAnalysis> {
  const { splitSql } = await import('../sql/index.js');
  const targets = new Set<string>();
  let barrier = false;
  for (const item of splitSql(await readFile(file.absolutePath))) {
    if (item.kind === 'meta') {
      barrier = true;
      continue;
    }
    const statement = item.kind === 'copy' ? item.statement : item;
    const first = statement.words[0];
    if (item.kind === 'copy' || first === 'INSERT') {
      const target = TARGET.exec(statement.text)?.[1]?.replace(/^ONLY\s+/i, '');
      if (target) targets.add(target);
      else barrier = true;
    } else if (!first || !HARMLESS.has(first)) {
      barrier = true;
    }
  }
  return { targets: [...targets], barrier };
}

/** Each written table name's partition root, and the foreign keys between roots, from the side database. */
async function tableGraph(client: pg.Client, names: readonly string[]): Promise<{ roots: Map<string, string>; references: Set<string> }> {
  const resolved = await client.query<{ name: string; root: string | null }>(
    `SELECT n AS name, coalesce(pg_partition_root(to_regclass(n)), to_regclass(n))::oid::text AS root FROM unnest($1::text[]) AS n`,
    [names],
  );
  const roots = new Map<string, string>();
  for (const row of resolved.rows) if (row.root !== null) roots.set(row.name, row.root);
  const keys = await client.query<{ child: string; parent: string }>(
    `SELECT DISTINCT coalesce(pg_partition_root(conrelid), conrelid)::oid::text AS child, coalesce(pg_partition_root(confrelid), confrelid)::oid::text AS parent
       FROM pg_constraint WHERE contype = 'f'`,
  );
  return { roots, references: new Set(keys.rows.map((row) => `${row.child}>${row.parent}`)) };
}

/** For each file, the earlier files it must wait for. */
function dependencies(analyses: readonly FileAnalysis[], graph: { roots: Map<string, string>; references: Set<string> }): Array<Set<number>> {
  const rootsOf = analyses.map((analysis) => analysis.targets.map((name) => graph.roots.get(name)));
  const barrier = analyses.map((analysis, index) => analysis.barrier || rootsOf[index]?.some((root) => root === undefined) === true);
  return analyses.map((_analysis, index) => {
    const waits = new Set<number>();
    const mine = (rootsOf[index] ?? []) as string[];
    for (let earlier = 0; earlier < index; earlier++) {
      const theirs = (rootsOf[earlier] ?? []) as string[];
      const related = mine.some((root) => theirs.some((other) => other === root || graph.references.has(`${root}>${other}`)));
      if (barrier[index] || barrier[earlier] || related) waits.add(earlier);
    }
    return waits;
  });
}

/** Where and how a layer's files run (run-layer.ts takes it; kept here, below it, so both share it). */
export interface LayerRunContext {
  /** The side database being built. */
  target: DbTarget;
  runner: Runner;
  pgBinDir?: string | undefined;
  logger: Logger;
  /** psql variables the files run with (the environment's). */
  variables: Record<string, string>;
  /** The repository: includes may not leave it. */
  root: string;
}

/** Where the files run, and how a connection to run them on is opened (run-layer.ts's, for builds). */
export interface ParallelContext extends LayerRunContext {
  connect: () => Promise<pg.Client>;
}

/** Runs `files` on up to `connections` connections, each as soon as the files it depends on are done. */
export async function runParallel(ctx: ParallelContext, files: readonly LayerFile[], connections: number): Promise<void> {
  const { runFiles, SESSION_RESET_SQL } = await import('../sql/index.js');
  const analyses = await Promise.all(files.map(analyse));
  const names = [...new Set(analyses.flatMap((analysis) => analysis.targets))];
  const probe = await ctx.connect();
  let waits: Array<Set<number>>;
  try {
    waits = dependencies(analyses, await tableGraph(probe, names));
  } finally {
    await probe.end().catch(() => undefined);
  }
  const done = new Set<number>();
  const started = new Set<number>();
  let failure: unknown;
  const sleeping: Array<() => void> = [];
  const wakeAll = (): void => {
    for (const resolve of sleeping.splice(0)) resolve();
  };
  const ready = (): number | undefined => {
    for (let index = 0; index < files.length; index++) {
      if (started.has(index)) continue;
      if ([...(waits[index] ?? [])].every((earlier) => done.has(earlier))) return index;
    }
    return undefined;
  };
  const worker = async (): Promise<void> => {
    const client = ctx.runner === 'psql' ? undefined : await ctx.connect();
    try {
      while (failure === undefined && started.size < files.length) {
        const index = ready();
        if (index === undefined) {
          await new Promise<void>((resolve) => sleeping.push(resolve));
          continue;
        }
        started.add(index);
        const file = files[index] as LayerFile;
        try {
          // Each file starts from the database's defaults (those an earlier file set with ALTER
          // DATABASE ... SET included), whichever connection ran what before it.
          if (client) await client.query(`${SESSION_RESET_SQL}\nSET synchronous_commit = off`);
          await runFiles([{ relativePath: file.relativePath, absolutePath: file.absolutePath, root: file.repository?.root }], { runner: ctx.runner, target: ctx.target, pgBinDir: ctx.pgBinDir, client, logger: ctx.logger, variables: ctx.variables, root: ctx.root, serverWide: 'refuse' });
          done.add(index);
          ctx.logger.progress({ phase: 'sql', done: done.size, total: files.length, unit: 'files', detail: file.relativePath });
        } catch (error) {
          failure ??= error;
        }
        wakeAll();
      }
    } finally {
      wakeAll();
      await client?.end().catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(connections, files.length) }, worker));
  if (failure !== undefined) throw failure;
}
