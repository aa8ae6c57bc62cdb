import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DbfastError } from '../errors.js';
import { MAX_SPLIT_BYTES } from './bytes.js';
import { classify, type StatementTraits } from './classify.js';
import { sourceError } from './sql-error.js';
import { relativeToRoot, repositoryRootOf, type SourceFile } from './source.js';
import { splitSql, type SqlCopy, type SqlMetaCommand, type SqlStatement } from './split.js';
import type { SqlFile } from './types.js';

export interface PlannedStatement {
  kind: 'statement';
  source: SourceFile;
  statement: SqlStatement;
  traits: StatementTraits;
}

export interface PlannedCopy {
  kind: 'copy';
  source: SourceFile;
  copy: SqlCopy;
}

export type PlannedStep = PlannedStatement | PlannedCopy;

/** A file (and everything it includes) split, checked and flattened into what the runner sends, in order. */
export interface SqlPlan {
  file: SqlFile;
  steps: PlannedStep[];
  /** The file and every file it included. */
  sources: SourceFile[];
}

const INCLUDE = new Set(['\\i', '\\include']);
const INCLUDE_RELATIVE = new Set(['\\ir', '\\include_relative']);
const MAX_INCLUDE_DEPTH = 32;
const PSQL_HINT = 'Run this file with psql: set runner = "psql" in [repository] of dbfast.toml, or pass --runner psql.';

/** Reads and plans a file; `content` skips the read (for SQL that is not on disk, or already read). */
export async function planFile(file: SqlFile, content?: Buffer | string): Promise<SqlPlan> {
  let buffer: Buffer;
  if (content !== undefined) {
    buffer = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  } else {
    try {
      buffer = await readFile(file.absolutePath);
    } catch (error) {
      throw new DbfastError('SQL_FILE_UNREADABLE', `${file.relativePath}: cannot read ${file.absolutePath}: ${(error as Error).message}`, {
        hint: 'Check that the file exists and is readable.',
        cause: error,
      });
    }
  }
  const source: SourceFile = { relativePath: file.relativePath, absolutePath: path.resolve(file.absolutePath), buffer };
  const context: ExpandContext = { root: repositoryRootOf(source.absolutePath, file.relativePath), plan: { file, steps: [], sources: [] } };
  await expand(source, [source.absolutePath], context);
  return context.plan;
}

interface ExpandContext {
  root: string;
  plan: SqlPlan;
  /** The key of a `\restrict` (pg_dump >= 17.6 and the 13-16 minor releases of August 2025 write one) not yet lifted. */
  restrictKey?: string | undefined;
}

async function expand(source: SourceFile, chain: string[], context: ExpandContext): Promise<void> {
  const { plan } = context;
  if (source.buffer.length > MAX_SPLIT_BYTES) {
    throw sourceError('SQL_FILE_TOO_LARGE', source, 1, `${source.buffer.length} bytes is more than the in-process runner reads in one file (${MAX_SPLIT_BYTES})`,
      'Split the file into smaller files, or run it with psql: set runner = "psql" in [repository] of dbfast.toml, or pass --runner psql.');
  }
  plan.sources.push(source);
  for (const item of splitSql(source.buffer)) {
    if (item.kind === 'meta') {
      await metaCommand(source, item, chain, context);
    } else if (item.kind === 'copy') {
      checkCopy(source, item);
      plan.steps.push({ kind: 'copy', source, copy: item });
    } else {
      const traits = classify(item);
      if (traits.refusal) {
        throw sourceError('SQL_UNSUPPORTED', source, item.line, `this statement ${traits.refusal}`, PSQL_HINT, {
          column: item.column,
        });
      }
      plan.steps.push({ kind: 'statement', source, statement: item, traits });
    }
  }
}

function checkCopy(source: SourceFile, copy: SqlCopy): void {
  const line = copy.statement.line;
  if (copy.sameLineText !== undefined) {
    throw sourceError(
      'SQL_COPY_SAME_LINE', source, line,
      `text after "COPY ... FROM stdin;" on the same line: ${copy.sameLineText}`,
      'Start the COPY data on the line after the COPY statement and move other SQL after its \\. line.',
    );
  }
  if (!copy.terminated) {
    throw sourceError(
      'SQL_COPY_UNTERMINATED', source, line,
      `COPY ... FROM stdin has no end of data: the file ends before a line with only \\.`,
      'End the COPY data with a line holding just \\. (and end the COPY statement with ;).',
    );
  }
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

/**
 * `\restrict KEY` ... `\unrestrict KEY` (pg_dump's guard against meta-commands smuggled into a
 * dump) are honoured: in between, every other meta-command is refused, as psql does. The
 * in-process runner runs no other meta-command anyway, so the pair needs no psql.
 */
async function metaCommand(source: SourceFile, meta: SqlMetaCommand, chain: string[], context: ExpandContext): Promise<void> {
  if (!meta.midStatement && meta.command === '\\restrict') {
    context.restrictKey = meta.args;
    return;
  }
  if (!meta.midStatement && meta.command === '\\unrestrict') {
    if (context.restrictKey !== undefined && meta.args !== context.restrictKey) {
      throw sourceError('SQL_META_COMMAND', source, meta.line, '\\unrestrict with a key that does not match the \\restrict before it',
        'The file may have been tampered with: compare it with the original dump.', { column: meta.column, command: meta.command });
    }
    context.restrictKey = undefined;
    return;
  }
  if (context.restrictKey !== undefined) {
    throw sourceError('SQL_META_COMMAND', source, meta.line, `psql meta-command ${meta.command} after \\restrict: only \\unrestrict is allowed there`,
      'The file may have been tampered with: a dump guarded by \\restrict holds no other meta-commands.', { column: meta.column, command: meta.command });
  }
  await include(source, meta, chain, context);
}

async function include(source: SourceFile, meta: SqlMetaCommand, chain: string[], context: ExpandContext): Promise<void> {
  const { root } = context;
  const isInclude = INCLUDE.has(meta.command) || INCLUDE_RELATIVE.has(meta.command);
  if (!isInclude || meta.midStatement) {
    const what = meta.command === '\\.' ? '\\. outside COPY data' : `psql meta-command ${meta.command}${meta.midStatement ? ' in the middle of a statement' : ''}`;
    throw sourceError('SQL_META_COMMAND', source, meta.line, `${what} cannot run in-process`, PSQL_HINT, {
      column: meta.column,
      command: meta.command,
    });
  }
  const name = includeArgument(meta.args);
  if (name === undefined) {
    throw sourceError('SQL_INCLUDE_INVALID', source, meta.line, `${meta.command} needs a file name${meta.args ? ` (got ${meta.args})` : ''}`,
      `Write ${meta.command} path/to/file.sql (relative to the including file's folder).`, { command: meta.command });
  }
  // Both \i and \ir resolve against the including file's folder, so a repository does not depend on the working directory.
  const target = path.resolve(path.dirname(source.absolutePath), name);
  const relativePath = relativeToRoot(root, target);
  if (chain.includes(target)) {
    const names = [...chain, target].map((file) => relativeToRoot(root, file));
    throw sourceError('SQL_INCLUDE_CYCLE', source, meta.line, `${meta.command} ${name} makes an include cycle: ${names.join(' -> ')}`,
      'Remove one of the includes so no file includes itself, directly or indirectly.', { cycle: names });
  }
  if (chain.length >= MAX_INCLUDE_DEPTH) {
    throw sourceError('SQL_INCLUDE_DEPTH', source, meta.line, `includes nested more than ${MAX_INCLUDE_DEPTH} deep`,
      'Flatten the includes.');
  }
  let buffer: Buffer;
  try {
    buffer = await readFile(target);
  } catch (error) {
    throw sourceError('SQL_INCLUDE_MISSING', source, meta.line, `${meta.command} ${name}: cannot read ${relativePath} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      `Check the path; ${meta.command} paths are relative to the including file's folder.`, { include: relativePath });
  }
  const included: SourceFile = { relativePath, absolutePath: target, buffer, includedFrom: { source, line: meta.line } };
  await expand(included, [...chain, target], context);
}
