import path from 'node:path';
import type { Runner } from '../config/types.js';
import type { FileStamp } from './reader.js';
import { repositoryRootOf, type SourceFile } from './source.js';
import type { SqlFile } from './types.js';
import { Walker, type PlannedStep } from './walk.js';

export type { PlannedCopy, PlannedStatement, PlannedStep, PlannedVariable } from './walk.js';

/** A file (and everything it includes) split, checked and held in memory, in the order the runner sends it. */
export interface SqlPlan {
  file: SqlFile;
  steps: PlannedStep[];
}

export interface PlanOptions {
  runner?: Runner | undefined;
  serverWide?: 'refuse' | 'allow' | undefined;
  /** The repository (includes may not leave it); default: the folder `file.relativePath` is relative to. */
  root?: string | undefined;
  chunkBytes?: number | undefined;
  variables?: ReadonlyMap<string, string> | undefined;
  stamps?: Map<string, FileStamp> | undefined;
  copyBytes?: Map<string, number> | undefined;
}

/** The source a file's steps name, before anything is read. */
export function topSource(file: SqlFile, content?: Buffer): SourceFile {
  const source: SourceFile = { relativePath: file.relativePath, absolutePath: path.resolve(file.absolutePath) };
  if (content) source.buffer = content;
  return source;
}

/**
 * Reads a file (and its includes) to the end, checking everything before anything runs, and
 * hands its steps to `keep` as they come (in arrays; COPY data is read to its end meanwhile).
 * `keep` returning false stops keeping: the walk goes on to check the rest. Records each file's
 * size and time in `stamps`, so a second pass can tell it was not changed in between.
 */
export async function checkFile(file: SqlFile, options: PlanOptions, content: Buffer | undefined, keep: (steps: PlannedStep[]) => Promise<boolean>): Promise<void> {
  const source = topSource(file, content);
  const walker = new Walker(source, {
    runner: options.runner ?? 'inprocess',
    serverWide: options.serverWide ?? 'allow',
    root: file.root ?? options.root ?? repositoryRootOf(source.absolutePath, file.relativePath),
    chunkBytes: options.chunkBytes,
    variables: options.variables,
    stamps: options.stamps,
    copyBytes: options.copyBytes,
    record: true,
  });
  let keeping = true;
  for await (const steps of walker.steps(content)) {
    if (keeping) keeping = await keep(steps);
    for (const step of steps) if (step.kind === 'copy') for await (const piece of step.data) void piece;
  }
}

/** Reads and plans a file into memory (for small files: migrations, SQL given as text); `content` skips the read. */
export async function planFile(file: SqlFile, content?: Buffer | string, options: PlanOptions = {}): Promise<SqlPlan> {
  const buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const steps: PlannedStep[] = [];
  await checkFile(file, options, buffer, async (batch) => {
    for (const step of batch) steps.push(await held(step));
    return true;
  });
  return { file, steps };
}

/** A step whose COPY data is read into memory, so it can be sent after the file was read to its end. */
export async function held(step: PlannedStep): Promise<PlannedStep> {
  return ((await heldUpTo(step, Infinity)) as { step: PlannedStep }).step;
}

/**
 * As `held`, with the bytes it keeps (its text and COPY data), unless that is more than
 * `limit`: then undefined, and its data is read through without being kept.
 */
export async function heldUpTo(step: PlannedStep, limit: number): Promise<{ step: PlannedStep; bytes: number } | undefined> {
  if (step.kind === 'variable') return { step, bytes: step.meta.args.length };
  let bytes = step.statement.text.length;
  if (step.kind === 'statement') return bytes <= limit ? { step, bytes } : undefined;
  const pieces: Buffer[] = [];
  for await (const piece of step.data) {
    bytes += piece.length;
    if (bytes <= limit) pieces.push(piece);
  }
  if (bytes > limit) return undefined;
  const data: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: async function* () {
      for (const piece of pieces) yield piece;
    },
  };
  return { step: { ...step, data }, bytes };
}
