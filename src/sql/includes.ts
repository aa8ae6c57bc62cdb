import { createReadStream, realpathSync } from 'node:fs';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import type { Runner } from '../config/types.js';
import { SqlReader } from './reader.js';
import { sourceError } from './sql-error.js';
import { nameInRoot, type SourceFile } from './source.js';
import type { SqlMetaCommand } from './items.js';

const INCLUDE = new Set(['\\i', '\\include']);
const INCLUDE_RELATIVE = new Set(['\\ir', '\\include_relative']);

/** `\i` / `\include` / `\ir` / `\include_relative` at the start of a line. */
export function isInclude(meta: SqlMetaCommand): boolean {
  return !meta.midStatement && (INCLUDE.has(meta.command) || INCLUDE_RELATIVE.has(meta.command));
}

/** psql's argument quoting for a file name: 'quoted' with '' for a quote, or a bare word. */
function includeArgument(args: string): string | undefined {
  if (args.startsWith("'")) {
    const match = /^'((?:[^']|'')*)'/.exec(args);
    return match?.[1]?.replaceAll("''", "'");
  }
  const word = /^\S+/.exec(args)?.[0];
  return word === undefined || word.startsWith('`') || word.startsWith(':') ? undefined : word;
}

function realpathOrSelf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function outside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative);
}

/** Where an include points, named relative to the repository. */
export interface ResolvedInclude {
  /** As written after the command. */
  name: string;
  absolutePath: string;
  relativePath: string;
}

/**
 * Resolves an include the way the runner will: in-process, `\i` and `\ir` are both relative to
 * the including file's folder; psql resolves `\i` against its working directory (the top-level
 * file's folder, where the psql runner starts it) and `\ir` against the including file's.
 * Refuses names it cannot read statically and files outside the repository (also through a
 * symbolic link): included files are part of the environment, hashed and guarded with it.
 */
export function resolveInclude(source: SourceFile, meta: SqlMetaCommand, root: string, runner: Runner = 'inprocess', topFolder?: string): ResolvedInclude {
  const name = includeArgument(meta.args);
  if (name === undefined) {
    throw sourceError('SQL_INCLUDE_INVALID', source, meta.line, `${meta.command} needs a file name written out${meta.args ? ` (got ${meta.args})` : ''}`,
      `Write ${meta.command} path/to/file.sql (relative to the including file's folder), without variables or backquotes: dbfast must know which file it is before anything runs.`, { command: meta.command });
  }
  const base = runner === 'psql' && INCLUDE.has(meta.command) ? (topFolder ?? path.dirname(source.absolutePath)) : path.dirname(source.absolutePath);
  const absolutePath = path.resolve(base, name);
  if (outside(root, absolutePath) || outside(realpathOrSelf(root), realpathOrSelf(absolutePath))) {
    throw sourceError('SQL_INCLUDE_OUTSIDE', source, meta.line, `${meta.command} ${name} leaves the repository`,
      `Move ${name} into the repository (${root}): included files are part of the environment, hashed for change detection and checked by the production guard.`, { include: absolutePath });
  }
  return { name, absolutePath, relativePath: nameInRoot(root, source, absolutePath) };
}

/** An include found by the static scan: what it points at, and where it is. */
export interface IncludeReference extends ResolvedInclude {
  line: number;
}

/** Whether a file holds the bytes of an include at all (`\i...`): most files do not, and need no scan. */
export async function mayInclude(absolutePath: string): Promise<boolean> {
  let previous = 0;
  for await (const chunk of createReadStream(absolutePath) as AsyncIterable<Buffer>) {
    if ((previous === 0x5c && chunk[0] === 0x69) || chunk.includes('\\i')) return true;
    previous = chunk[chunk.length - 1] ?? 0;
  }
  return false;
}

/**
 * The includes a file makes, in order, read the way the runner reads it (COPY data, quotes and
 * comments are not includes). Errors name `file:line`.
 */
export async function scanIncludes(file: { relativePath: string; absolutePath: string }, root: string, runner: Runner = 'inprocess'): Promise<IncludeReference[]> {
  const source: SourceFile = { relativePath: file.relativePath, absolutePath: path.resolve(file.absolutePath) };
  let reader: SqlReader;
  try {
    reader = await SqlReader.open(source.absolutePath);
  } catch (error) {
    throw new DbfastError('SQL_FILE_UNREADABLE', `${file.relativePath}: cannot read ${file.absolutePath}: ${(error as Error).message}`, { hint: 'Check that the file exists and is readable.', cause: error });
  }
  const found: IncludeReference[] = [];
  try {
    for await (const item of reader.items()) {
      if (item.kind === 'meta' && isInclude(item)) found.push({ ...resolveInclude(source, item, root, runner), line: item.line });
    }
  } finally {
    await reader.close();
  }
  return found;
}
