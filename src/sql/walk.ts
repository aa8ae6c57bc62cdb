import path from 'node:path';
import type { Runner } from '../config/types.js';
import { DbfastError } from '../errors.js';
import { classify, type StatementTraits } from './classify.js';
import { isInclude, resolveInclude } from './includes.js';
import type { SqlMetaCommand, SqlStatement } from './items.js';
import { applySetCommand, psqlOnlyVariable } from './psql-variables.js';
import { SqlReader, type FileStamp, type StreamedCopy } from './reader.js';
import { otherDatabase, serverWideStatement, type OtherDatabase } from './server-wide.js';
import { sourceError } from './sql-error.js';
import { locationInStatement, nameInRoot, type SourceFile } from './source.js';
import { findReferences, type VariableReference } from './variables.js';

export interface PlannedStatement {
  kind: 'statement';
  source: SourceFile;
  statement: SqlStatement;
  traits: StatementTraits;
  /** psql variable references in the statement (in-process only). */
  references: VariableReference[];
}

export interface PlannedCopy {
  kind: 'copy';
  source: SourceFile;
  /** `COPY ... FROM stdin;` itself. */
  statement: SqlStatement;
  references: VariableReference[];
  dataLine: number;
  /** The data exactly as written; read once. */
  data: AsyncIterable<Buffer>;
  /** Its size, when known before it is read (for progress). */
  dataBytes?: number | undefined;
}

/** `\set` / `\unset`: applied in order by the in-process runner. */
export interface PlannedVariable {
  kind: 'variable';
  source: SourceFile;
  meta: SqlMetaCommand;
}

export type PlannedStep = PlannedStatement | PlannedCopy | PlannedVariable;

export const PSQL_HINT = 'Run this file with psql: set runner = "psql" in [repository] of dbfast.toml, or pass --runner psql.';
const MAX_INCLUDE_DEPTH = 32;
/** Shared by statements without variables (most), so none allocates an array of its own. */
const NO_REFERENCES: VariableReference[] = [];

export interface WalkOptions {
  /** `inprocess`: everything the in-process runner cannot run is refused. `psql`: psql runs meta-commands itself; only what would build the wrong database is refused. */
  runner: Runner;
  /** `refuse`: statements that act on the whole server are refused (template builds). */
  serverWide: 'refuse' | 'allow';
  /** The repository: includes may not leave it. */
  root: string;
  chunkBytes?: number | undefined;
  /** The variables a `\set` is checked against (config variables and psql's defaults). */
  variables?: ReadonlyMap<string, string> | undefined;
  /** Files seen by an earlier pass, with the size and time they had: a file changed since is refused. Filled when `record`. */
  stamps?: Map<string, FileStamp> | undefined;
  /** Bytes of each COPY's data (by file and data line) seen by an earlier pass: a streamed COPY's total for progress. Filled when `record`. */
  copyBytes?: Map<string, number> | undefined;
  record?: boolean | undefined;
}

function serverWideError(source: SourceFile, statement: SqlStatement, what: string): DbfastError {
  const database = what.endsWith('DATABASE');
  const hint = database
    ? `dbfast makes the database a template is built in: remove ${what} (and any \\c after it) from ${source.relativePath}, or move it into a file listed in [repository] cluster_setup.`
    : `Move it into a file of its own and list that file in dbfast.toml: [repository] cluster_setup = ["${source.relativePath}"]. dbfast runs those files on the local server before a build, again only when they change.`;
  return sourceError('SQL_SERVER_WIDE', source, statement.line, `${what} acts on the whole server, not on the database being built`, hint, { statement: what }, statement.column);
}

function otherDatabaseError(source: SourceFile, statement: SqlStatement, other: OtherDatabase): DbfastError {
  const at = locationInStatement(statement, other.index);
  return sourceError('SQL_SERVER_WIDE', source, at.line, `${other.statement} ${other.written} names another database, not the database being built`,
    `Write ${other.statement} :"DBNAME" instead: psql's DBNAME is it in both runners, while any name written out (the template's own included: the build replaces it) is another database on the server. Changes to other databases belong in a file listed in [repository] cluster_setup.`,
    { statement: other.statement, database: other.written }, at.column);
}

function databaseSwitch(source: SourceFile, meta: SqlMetaCommand): DbfastError {
  return sourceError('SQL_DATABASE_SWITCH', source, meta.line, `${meta.command}${meta.args ? ` ${meta.args}` : ''} switches to another database; the files run in the one database they are given`,
    'Remove the \\c line (and any CREATE/DROP DATABASE before it): dbfast makes the database and runs the files in it.', { command: meta.command });
}

/**
 * Reads a file (and what it includes) in order and checks each thing it finds before handing
 * it on: what the runner cannot run, includes that cannot be followed, statements a template
 * must not hold. Streams: holds one window of the file (and of each open include) at a time.
 */
export class Walker {
  private restrictKey: string | undefined;
  private readonly variables: Map<string, string>;

  constructor(
    private readonly top: SourceFile,
    private readonly options: WalkOptions,
  ) {
    this.variables = new Map(options.variables ?? []);
  }

  /** The file's steps in order, in arrays (about a window each): a COPY whose data streams ends its array. */
  steps(content?: Buffer): AsyncGenerator<PlannedStep[]> {
    return this.walk(this.top, [this.top.absolutePath], content);
  }

  private async open(source: SourceFile, content: Buffer | undefined): Promise<SqlReader> {
    const reader = await SqlReader.open(source.absolutePath, content, this.options.chunkBytes);
    const { stamps, record } = this.options;
    const stamp = reader.stamp;
    if (stamps && stamp) {
      const before = stamps.get(source.absolutePath);
      if (record) stamps.set(source.absolutePath, stamp);
      else if (!before || before.size !== stamp.size || before.mtimeMs !== stamp.mtimeMs) {
        await reader.close();
        throw new DbfastError('SQL_FILE_CHANGED', `${source.relativePath}: changed while it was being run`, { hint: 'Run again once nothing is writing to the SQL files.' });
      }
    }
    return reader;
  }

  private async *walk(source: SourceFile, chain: string[], content?: Buffer): AsyncGenerator<PlannedStep[]> {
    let reader: SqlReader;
    try {
      reader = await this.open(source, content);
    } catch (error) {
      if (error instanceof DbfastError) throw error;
      throw new DbfastError('SQL_FILE_UNREADABLE', `${source.relativePath}: cannot read ${source.absolutePath}: ${(error as Error).message}`, {
        hint: 'Check that the file exists and is readable.',
        cause: error,
      });
    }
    yield* this.read(source, reader, chain);
  }

  private async *read(source: SourceFile, reader: SqlReader, chain: string[]): AsyncGenerator<PlannedStep[]> {
    try {
      for await (const items of reader.windows()) {
        let steps: PlannedStep[] = [];
        for (const item of items) {
          if (item.kind === 'statement') {
            steps.push(this.statement(source, item));
          } else if (item.kind === 'copy') {
            steps.push(this.copy(source, item));
            if (!item.end) {
              // Its data streams from the file: it must be read before anything after it.
              yield steps;
              steps = [];
              for await (const piece of item.data) void piece;
            }
            this.copyEnd(source, item);
            if (this.options.record && item.end) this.options.copyBytes?.set(`${source.absolutePath}:${item.dataLine}`, item.end.dataBytes);
          } else if (isInclude(item)) {
            this.checkRestricted(source, item);
            if (steps.length > 0) yield steps;
            steps = [];
            yield* this.include(source, item, chain);
          } else {
            const step = this.meta(source, item);
            if (step) steps.push(step);
          }
        }
        if (steps.length > 0) yield steps;
      }
    } finally {
      await reader.close();
    }
  }

  private references(source: SourceFile, statement: SqlStatement): VariableReference[] {
    if (this.options.runner !== 'inprocess') return NO_REFERENCES;
    const references = findReferences(statement.text);
    for (const reference of references) {
      const why = psqlOnlyVariable(reference.name);
      if (why === undefined) continue;
      const at = locationInStatement(statement, reference.start);
      throw sourceError('SQL_UNSUPPORTED', source, at.line, `:${reference.name} ${why}; the in-process runner cannot give its value`, PSQL_HINT, { variable: reference.name }, at.column);
    }
    return references.length === 0 ? NO_REFERENCES : references;
  }

  private statement(source: SourceFile, statement: SqlStatement): PlannedStatement {
    const traits = classify(statement);
    if (this.options.runner === 'inprocess' && traits.refusal) {
      throw sourceError('SQL_UNSUPPORTED', source, statement.line, `this statement ${traits.refusal}`, PSQL_HINT, { column: statement.column });
    }
    if (this.options.serverWide === 'refuse') {
      const what = serverWideStatement(statement.words);
      if (what) throw serverWideError(source, statement, what);
      const other = otherDatabase(statement);
      if (other) throw otherDatabaseError(source, statement, other);
    }
    return { kind: 'statement', source, statement, traits, references: this.references(source, statement) };
  }

  private copy(source: SourceFile, copy: StreamedCopy): PlannedCopy {
    if (this.options.runner === 'inprocess' && copy.sameLineText !== undefined) {
      throw sourceError('SQL_COPY_SAME_LINE', source, copy.statement.line, `text after "COPY ... FROM stdin;" on the same line: ${copy.sameLineText}`,
        'Start the COPY data on the line after the COPY statement and move other SQL after its \\. line.');
    }
    const what = this.options.serverWide === 'refuse' ? serverWideStatement(copy.statement.words) : undefined;
    if (what) throw serverWideError(source, copy.statement, what);
    // Known now when the data is inline in the window; for data that streams, from the first pass.
    const dataBytes = copy.end?.dataBytes ?? this.options.copyBytes?.get(`${source.absolutePath}:${copy.dataLine}`);
    return { kind: 'copy', source, statement: copy.statement, references: this.references(source, copy.statement), dataLine: copy.dataLine, data: copy.data, dataBytes };
  }

  private copyEnd(source: SourceFile, copy: StreamedCopy): void {
    if (this.options.runner === 'inprocess' && copy.end?.terminated === false) {
      throw sourceError('SQL_COPY_UNTERMINATED', source, copy.statement.line, 'COPY ... FROM stdin has no end of data: the file ends before a line with only \\.',
        'End the COPY data with a line holding just \\. (and end the COPY statement with ;).');
    }
  }

  /** Between `\restrict` and `\unrestrict` no other meta-command may appear (as psql enforces). */
  private checkRestricted(source: SourceFile, meta: SqlMetaCommand): void {
    if (this.options.runner === 'inprocess' && this.restrictKey !== undefined) {
      throw sourceError('SQL_META_COMMAND', source, meta.line, `psql meta-command ${meta.command} after \\restrict: only \\unrestrict is allowed there`,
        'The file may have been tampered with: a dump guarded by \\restrict holds no other meta-commands.', { column: meta.column, command: meta.command });
    }
  }

  /** A meta-command other than an include: the step it makes (`\set`), nothing (psql runs it), or a refusal. */
  private meta(source: SourceFile, meta: SqlMetaCommand): PlannedVariable | undefined {
    const { command } = meta;
    if (command === '\\c' || command === '\\connect') throw databaseSwitch(source, meta);
    if (this.options.runner === 'inprocess' && !meta.midStatement && (command === '\\restrict' || command === '\\unrestrict')) {
      this.restrict(source, meta);
      return undefined;
    }
    this.checkRestricted(source, meta);
    // psql runs every other meta-command itself.
    if (this.options.runner === 'psql') return undefined;
    if (!meta.midStatement && (command === '\\set' || command === '\\unset')) {
      const problem = applySetCommand(command, meta.args, this.variables);
      if (problem) throw sourceError('SQL_META_COMMAND', source, meta.line, `${problem} cannot run in-process`, PSQL_HINT, { column: meta.column, command });
      return { kind: 'variable', source, meta };
    }
    const what = command === '\\.' ? '\\. outside COPY data' : `psql meta-command ${command}${meta.midStatement ? ' in the middle of a statement' : ''}`;
    throw sourceError('SQL_META_COMMAND', source, meta.line, `${what} cannot run in-process`, PSQL_HINT, { column: meta.column, command });
  }

  /** `\restrict KEY` ... `\unrestrict KEY` (pg_dump's guard against smuggled meta-commands): honoured as psql does. */
  private restrict(source: SourceFile, meta: SqlMetaCommand): void {
    if (meta.command === '\\restrict') {
      this.restrictKey = meta.args;
      return;
    }
    if (this.restrictKey !== undefined && meta.args !== this.restrictKey) {
      throw sourceError('SQL_META_COMMAND', source, meta.line, '\\unrestrict with a key that does not match the \\restrict before it',
        'The file may have been tampered with: compare it with the original dump.', { column: meta.column, command: meta.command });
    }
    this.restrictKey = undefined;
  }

  private async *include(source: SourceFile, meta: SqlMetaCommand, chain: string[]): AsyncGenerator<PlannedStep[]> {
    const { root, runner } = this.options;
    const target = resolveInclude(source, meta, root, runner, path.dirname(this.top.absolutePath));
    if (chain.includes(target.absolutePath)) {
      const names = [...chain, target.absolutePath].map((file) => nameInRoot(root, this.top, file));
      throw sourceError('SQL_INCLUDE_CYCLE', source, meta.line, `${meta.command} ${target.name} makes an include cycle: ${names.join(' -> ')}`,
        'Remove one of the includes so no file includes itself, directly or indirectly.', { cycle: names });
    }
    if (chain.length >= MAX_INCLUDE_DEPTH) throw sourceError('SQL_INCLUDE_DEPTH', source, meta.line, `includes nested more than ${MAX_INCLUDE_DEPTH} deep`, 'Flatten the includes.');
    const included: SourceFile = { relativePath: target.relativePath, absolutePath: target.absolutePath, includedFrom: { source, line: meta.line } };
    let reader: SqlReader;
    try {
      reader = await this.open(included, undefined);
    } catch (error) {
      if (error instanceof DbfastError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw sourceError('SQL_INCLUDE_MISSING', source, meta.line, `${meta.command} ${target.name}: cannot read ${target.relativePath} (${code})`,
        `Check the path; ${meta.command} paths are relative to the including file's folder.`, { include: target.relativePath });
    }
    yield* this.read(included, reader, [...chain, target.absolutePath]);
  }
}
