import type pg from 'pg';
import { DbfastError, errorMessage, isDbfastError } from '../errors.js';
import type { Logger } from '../logger.js';
import { runPlan } from '../sql/index.js';
import type { PreparedMigration } from './prepare.js';
import { writeMigrationRow } from './table.js';

/** A migration this run committed, and how long it took. */
export interface AppliedMigration {
  id: string;
  executionMs: number;
  noTransaction: boolean;
}

/** What a failed migration leaves behind, for the error the caller raises. */
export interface MigrationFailure {
  migration: string;
  cause: unknown;
  /** Applied in this run and still applied. */
  applied: AppliedMigration[];
  /** Applied in this run, then rolled back with the failing one (--single-transaction). */
  rolledBack: string[];
  /** The failing migration ran outside a transaction: statements before the failing one took effect. */
  partial: boolean;
}

/** A migration failed: what stays applied and what rolled back (turned into MIGRATION_FAILED by the caller). */
export class MigrationRunError extends Error {
  constructor(readonly failure: MigrationFailure) {
    super(errorMessage(failure.cause));
  }
}

async function rollbackIfOpen(client: pg.Client): Promise<void> {
  if (client.getTransactionStatus() !== 'I') await client.query('ROLLBACK').catch(() => undefined);
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

/** The failure, recorded in a transaction of its own (the migration's has rolled back). */
async function recordFailure(client: pg.Client, failed: PreparedMigration, rolledBack: PreparedMigration[], cause: unknown, runId: string, logger: Logger): Promise<void> {
  try {
    await client.query('BEGIN');
    for (const m of rolledBack) {
      await writeMigrationRow(client, { id: m.file.id, sha256: m.file.sha256, status: 'rolled_back', executionMs: null, error: `rolled back with ${failed.file.id}`, runId });
    }
    await writeMigrationRow(client, { id: failed.file.id, sha256: failed.file.sha256, status: 'failed', executionMs: null, error: errorMessage(cause), runId });
    await client.query('COMMIT');
  } catch (error) {
    await rollbackIfOpen(client);
    logger.warn(`could not record the failure of ${failed.file.id} in dbfast.migrations: ${errorMessage(error)}`);
  }
}

/**
 * Each migration in a transaction of its own (BEGIN; the file; its tracking row; COMMIT), so
 * one is recorded exactly when it commits; a no-transaction migration runs as written and is
 * recorded after it. Stops at the first failure.
 */
export async function applyEach(client: pg.Client, migrations: PreparedMigration[], runId: string, logger: Logger): Promise<AppliedMigration[]> {
  const applied: AppliedMigration[] = [];
  for (const [index, m] of migrations.entries()) {
    logger.progress({ phase: 'migrate', done: index, total: migrations.length, unit: 'files', detail: m.file.id });
    const started = performance.now();
    try {
      if (!m.file.noTransaction) await client.query('BEGIN');
      await runPlan(client, m.plan, { transaction: 'none', logger, variables: m.variables });
      const executionMs = elapsed(started);
      await writeMigrationRow(client, { id: m.file.id, sha256: m.file.sha256, status: 'success', executionMs, error: null, runId });
      if (!m.file.noTransaction) await client.query('COMMIT');
      applied.push({ id: m.file.id, executionMs, noTransaction: m.file.noTransaction });
      logger.info(`applied ${m.file.id} (${executionMs} ms${m.file.noTransaction ? ', no transaction' : ''})`);
    } catch (cause) {
      await rollbackIfOpen(client);
      await recordFailure(client, m, [], cause, runId, logger);
      throw new MigrationRunError({ migration: m.file.id, cause, applied, rolledBack: [], partial: m.file.noTransaction });
    }
  }
  return applied;
}

/** All migrations in one transaction: all of them commit, or none. */
export async function applyInOneTransaction(client: pg.Client, migrations: PreparedMigration[], runId: string, logger: Logger): Promise<AppliedMigration[]> {
  const applied: AppliedMigration[] = [];
  await client.query('BEGIN');
  for (const [index, m] of migrations.entries()) {
    logger.progress({ phase: 'migrate', done: index, total: migrations.length, unit: 'files', detail: m.file.id });
    const started = performance.now();
    try {
      await runPlan(client, m.plan, { transaction: 'none', logger, variables: m.variables });
      const executionMs = elapsed(started);
      await writeMigrationRow(client, { id: m.file.id, sha256: m.file.sha256, status: 'success', executionMs, error: null, runId });
      applied.push({ id: m.file.id, executionMs, noTransaction: false });
    } catch (cause) {
      await rollbackIfOpen(client);
      const before = migrations.slice(0, index);
      await recordFailure(client, m, before, cause, runId, logger);
      throw new MigrationRunError({ migration: m.file.id, cause, applied: [], rolledBack: before.map((b) => b.file.id), partial: false });
    }
  }
  try {
    await client.query('COMMIT');
  } catch (cause) {
    // A deferred constraint can fail the COMMIT itself: then nothing of the run is applied.
    await rollbackIfOpen(client);
    const last = migrations[migrations.length - 1] as PreparedMigration;
    await recordFailure(client, last, migrations.slice(0, -1), cause, runId, logger);
    throw new MigrationRunError({ migration: last.file.id, cause, applied: [], rolledBack: migrations.slice(0, -1).map((m) => m.file.id), partial: false });
  }
  for (const a of applied) logger.info(`applied ${a.id} (${a.executionMs} ms)`);
  return applied;
}

/** The error a failed run ends with: what failed where, what stays applied, and how to go back. */
export function migrationFailedError(failure: MigrationFailure, context: { remote: string; notRun: string[]; backupId: string | null; runId: string }): DbfastError {
  const { cause } = failure;
  const lines = [`migration ${failure.migration} failed${failure.partial ? ' (it ran outside a transaction: statements before the failing one took effect)' : ' and was rolled back'}:`, `  ${errorMessage(cause).split('\n').join('\n  ')}`];
  if (failure.applied.length > 0) lines.push(`applied before it in this run (still applied): ${failure.applied.map((a) => a.id).join(', ')}`);
  if (failure.rolledBack.length > 0) lines.push(`rolled back with it (--single-transaction): ${failure.rolledBack.join(', ')}`);
  if (context.notRun.length > 0) lines.push(`not run: ${context.notRun.join(', ')}`);
  lines.push(context.backupId ? `backup taken before this run: ${context.backupId}` : 'no backup was taken before this run');
  const fix = `Fix ${sqlLocation(cause) ?? failure.migration} and run \`dbfast migrate apply --remote ${context.remote}\` again.`;
  const restore = context.backupId
    ? ` To return to the database as it was before this run: \`dbfast backup restore --remote ${context.remote} --backup-id ${context.backupId}\`.`
    : '';
  return new DbfastError('MIGRATION_FAILED', lines.join('\n'), {
    hint: fix + restore,
    cause,
    details: {
      migration: failure.migration,
      ...(isDbfastError(cause) && cause.details ? { sql: { code: cause.code, ...cause.details } } : {}),
      applied: failure.applied.map((a) => a.id),
      rolledBack: failure.rolledBack,
      notRun: context.notRun,
      backupId: context.backupId,
      runId: context.runId, },
    });
}

function sqlLocation(cause: unknown): string | undefined {
  if (!isDbfastError(cause) || !cause.details) return undefined;
  const { file, line } = cause.details as { file?: unknown; line?: unknown };
  return typeof file === 'string' && typeof line === 'number' ? `${file}:${line}` : undefined;
}
