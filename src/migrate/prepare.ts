import { DbfastError } from '../errors.js';
import { planFile, type SqlPlan } from '../sql/plan.js';
import { PSQL_DEFAULTS } from '../sql/psql-variables.js';
import { sourceError } from '../sql/sql-error.js';
import { NO_TRANSACTION_MARKER, type MigrationFile } from './files.js';

/** The start of a statement, for messages. */
function head(text: string): string {
  const line = (text.trim().split('\n')[0] ?? '').replace(/;\s*$/, '');
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}

/** A migration read, split, and checked against how it will run. */
export interface PreparedMigration {
  file: MigrationFile;
  plan: SqlPlan;
  /** The environment's psql variables it runs with (as the template's files do). */
  variables: Record<string, string>;
}

/**
 * Reads and splits every migration about to run, and refuses (before anything runs) what
 * could not run the way it is recorded: transaction control inside a migration dbfast wraps in
 * its own transaction, statements PostgreSQL refuses inside one, and no-transaction migrations
 * in a --single-transaction run. `variables`: the environment's psql variables (`[repository]`
 * and `[environments.NAME] variables`), which `\set` lines are checked against here and the
 * migrations run with.
 */
export async function prepareMigrations(files: readonly MigrationFile[], singleTransaction: boolean, variables: Record<string, string> = {}): Promise<PreparedMigration[]> {
  const prepared: PreparedMigration[] = [];
  const checkedWith = new Map([...Object.entries(PSQL_DEFAULTS), ...Object.entries(variables)]);
  for (const file of files) {
    const plan = await planFile({ relativePath: file.id, absolutePath: file.absolutePath }, file.content, { variables: checkedWith });
    if (file.noTransaction) {
      if (singleTransaction) {
        throw new DbfastError('MIGRATION_NO_TRANSACTION', `${file.id}:1: starts with "${NO_TRANSACTION_MARKER}" and cannot run inside --single-transaction`, {
          hint: 'Apply without --single-transaction, or with --to the migration before it and then the rest.',
          details: { migration: file.id } });
      }
    } else {
      for (const step of plan.steps) {
        if (step.kind !== 'statement') continue;
        const { traits, statement, source } = step;
        if (traits.transactionControl) {
          throw sourceError('MIGRATION_TRANSACTION_CONTROL', source, statement.line,
            `${head(statement.text)}: migrations run in a transaction dbfast opens and commits itself`,
            `Remove the transaction control from the migration, or make "${NO_TRANSACTION_MARKER}" its first line to run it as written.`,
            { migration: file.id });
        }
        if (traits.noTransactionBlock) {
          throw sourceError('MIGRATION_NEEDS_NO_TRANSACTION', source, statement.line,
            `${head(statement.text)} cannot run inside a transaction block`,
            `Make "${NO_TRANSACTION_MARKER}" the first line of ${file.id} (best with that statement alone in the file).`,
            { migration: file.id });
        }
      }
    }
    prepared.push({ file, plan, variables });
  }
  return prepared;
}
