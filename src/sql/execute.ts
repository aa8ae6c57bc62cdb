import type pg from 'pg';
import { buildBatch } from './batch.js';
import { runCopy, type CopyProgress } from './copy.js';
import { batchError, statementError } from './locate.js';
import { sourceError } from './sql-error.js';
import type { PlannedStatement, PlannedStep, SqlPlan } from './plan.js';
import type { TransactionMode } from './types.js';

/** Batches of about this many characters of SQL go as one simple query. */
export const DEFAULT_BATCH_CHARS = 1 << 20;

/** After this many DDL statements the runner commits its own transaction, so the lock table cannot overflow. */
const DDL_PER_TRANSACTION = 1000;

export interface ExecutorOptions {
  batchChars?: number | undefined;
  transaction?: TransactionMode | undefined;
  /** Hears how far a COPY's data has gone (about once per MiB), for progress on long COPYs. */
  onCopyProgress?: ((progress: CopyProgress) => void) | undefined;
}

export interface ExecuteStats {
  statements: number;
  copyRows: number;
  /** Queries sent: batches, lone statements, COPYs, and the executor's own BEGIN/COMMIT. */
  roundTrips: number;
}

/**
 * Sends planned steps over one connection: consecutive statements are joined into batches
 * (one round trip each, across file boundaries too), COPY data is streamed, and statements that
 * must run alone are sent alone. Call `finish()` after the last step.
 */
export class PlanExecutor {
  readonly stats: ExecuteStats = { statements: 0, copyRows: 0, roundTrips: 0 };
  private pending: PlannedStatement[] = [];
  private pendingChars = 0;
  private pendingDdl = 0;
  private ownTransaction = false;
  /** The files' own last BEGIN / START TRANSACTION, to name it if the files never end that transaction. */
  private lastBegin: PlannedStatement | undefined;
  private ddlInTransaction = 0;
  private readonly batchChars: number;
  private readonly mode: TransactionMode;
  private readonly onCopyProgress: ((progress: CopyProgress) => void) | undefined;

  constructor(
    private readonly client: pg.Client,
    options: ExecutorOptions = {},
  ) {
    this.batchChars = options.batchChars ?? DEFAULT_BATCH_CHARS;
    this.mode = options.transaction ?? 'none';
    this.onCopyProgress = options.onCopyProgress;
  }

  async run(plan: SqlPlan): Promise<void> {
    for (const step of plan.steps) await this.step(step);
  }

  async step(step: PlannedStep): Promise<void> {
    await this.guard(async () => {
      if (step.kind === 'copy') {
        await this.flush();
        await this.enterOwnTransaction();
        this.stats.roundTrips++;
        this.stats.copyRows += await runCopy(this.client, step, this.onCopyProgress);
        this.stats.statements++;
        return;
      }
      const traits = step.traits;
      if (traits.alone) {
        await this.flush();
        if (traits.transactionControl || traits.noTransactionBlock) await this.commitOwnTransaction();
        const idle = this.client.getTransactionStatus() === 'I';
        await this.send([step]);
        const first = step.statement.words[0];
        // Only a BEGIN that really opened a transaction (not one inside the caller's) is the files' to end.
        if (idle && (first === 'BEGIN' || first === 'START')) this.lastBegin = step;
        return;
      }
      this.pending.push(step);
      this.pendingChars += step.statement.text.length;
      if (traits.ddl) this.pendingDdl++;
      if (traits.endsBatch) {
        // The new enum value is usable only after a commit.
        await this.flush();
        await this.commitOwnTransaction();
      } else if (this.pendingChars >= this.batchChars) {
        await this.flush();
      }
    });
  }

  /**
   * Sends what is batched and commits the executor's own transaction. A transaction the files
   * began and never ended is an error (psql would silently lose its work when it disconnects).
   */
  async finish(): Promise<void> {
    await this.guard(async () => {
      await this.flush();
      await this.commitOwnTransaction();
      const begin = this.lastBegin;
      if (begin && this.client.getTransactionStatus() !== 'I') {
        await this.client.query('ROLLBACK');
        throw sourceError('SQL_OPEN_TRANSACTION', begin.source, begin.statement.line,
          `${begin.statement.text} starts a transaction that the files never end (no COMMIT after it); its work was rolled back`,
          'Add COMMIT; after the statements that belong to this transaction.');
      }
    });
  }

  /** On failure, rolls back the transaction the executor opened; a caller's transaction is the caller's to end. */
  private async guard(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.pending = [];
      if (this.ownTransaction) {
        this.ownTransaction = false;
        await this.client.query('ROLLBACK').catch(() => undefined);
      }
      throw error;
    }
  }

  private async enterOwnTransaction(): Promise<void> {
    if (this.mode !== 'single' || this.client.getTransactionStatus() !== 'I') return;
    await this.client.query('BEGIN');
    this.stats.roundTrips++;
    this.ownTransaction = true;
    this.ddlInTransaction = 0;
  }

  private async commitOwnTransaction(): Promise<void> {
    if (!this.ownTransaction) return;
    this.ownTransaction = false;
    if (this.client.getTransactionStatus() === 'I') return;
    this.stats.roundTrips++;
    await this.client.query('COMMIT');
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const statements = this.pending;
    const ddl = this.pendingDdl;
    this.pending = [];
    this.pendingChars = 0;
    this.pendingDdl = 0;
    await this.enterOwnTransaction();
    await this.send(statements);
    this.ddlInTransaction += ddl;
    if (this.ddlInTransaction >= DDL_PER_TRANSACTION) await this.commitOwnTransaction();
  }

  private async send(statements: PlannedStatement[]): Promise<void> {
    this.stats.roundTrips++;
    if (statements.length === 1) {
      const only = statements[0] as PlannedStatement;
      try {
        await this.client.query(only.statement.text);
      } catch (error) {
        throw statementError(only.source, only.statement, error);
      }
    } else {
      // Inside an open transaction a failed batch cannot simply be re-run: give it a savepoint to roll back to.
      const inSavepoint = this.client.getTransactionStatus() === 'T';
      const batch = buildBatch(statements, inSavepoint);
      try {
        await this.client.query(batch.text);
      } catch (error) {
        throw await batchError(this.client, batch, inSavepoint, error);
      }
    }
    this.stats.statements += statements.length;
  }
}
