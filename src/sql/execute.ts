import type pg from 'pg';
import { buildBatch, type SentStatement } from './batch.js';
import { runCopy, type CopyProgress } from './copy.js';
import { runDiscarding } from './discarding-query.js';
import { batchError, statementError } from './locate.js';
import { applySetCommand } from './psql-variables.js';
import { sessionReset } from './session.js';
import { sourceError } from './sql-error.js';
import type { SourceFile } from './source.js';
import type { TransactionMode } from './types.js';
import { substitute } from './variables.js';
import { PSQL_HINT, type PlannedCopy, type PlannedStatement, type PlannedStep } from './walk.js';

/**
 * Batches of about this many characters of SQL go as one simple query: hundreds of statements
 * per round trip, and few enough objects alive at a time that they die young (measured on 110 MB
 * of single-row INSERTs: peak RSS ~95 MiB and the least CPU, against ~130 MiB at 256 KiB).
 */
export const DEFAULT_BATCH_CHARS = 64 << 10;

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

/** Text sent as written: indexes are the same. */
const unchanged = (index: number): number => index;

/** A statement waiting for its batch; `counted` is false for the runner's own (the session reset). */
interface Pending extends SentStatement {
  counted: boolean;
}

/**
 * Sends planned steps over one connection: consecutive statements are joined into batches
 * (one round trip each, across file boundaries too), COPY data is streamed, statements that
 * must run alone are sent alone, psql variables are substituted as they come. Call
 * `beginFile` before each top-level file, `endFile` after it, and `finish()` after the last.
 */
export class PlanExecutor {
  readonly stats: ExecuteStats = { statements: 0, copyRows: 0, roundTrips: 0 };
  /** The current file's psql variables (`\set` changes them). */
  variables = new Map<string, string>();
  private pending: Pending[] = [];
  private pendingChars = 0;
  private pendingDdl = 0;
  private ownTransaction = false;
  /** The files' own last BEGIN / START TRANSACTION, to name it if a file never ends that transaction. */
  private lastBegin: PlannedStatement | undefined;
  private ddlInTransaction = 0;
  /** A file changed database or role settings: each later file applies them again after its reset. */
  private defaultsChanged = false;
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

  /**
   * Starts a top-level file with its variables; `reset`: from the database's defaults (not for
   * the first file). Once a file has changed database or role settings, the reset is sent on its
   * own between the runner's transactions, as psql's new session would start: the defaults that
   * shape a transaction (default_transaction_read_only, _isolation, _deferrable) are read when
   * it begins, so set inside one they would only reach the file after. Otherwise it rides at
   * the head of the file's first batch (no round trip of its own).
   */
  async beginFile(source: SourceFile, variables: Map<string, string>, reset: boolean): Promise<void> {
    this.variables = variables;
    if (!reset) return;
    const sent: Pending = { ...sessionReset(source, this.defaultsChanged), counted: false };
    if (!this.defaultsChanged) {
      this.queue(sent, false);
      return;
    }
    await this.guard(async () => {
      await this.flush();
      await this.commitOwnTransaction();
      // Inside a transaction of the caller's, the reset waits for the next batch as before.
      if (this.client.getTransactionStatus() === 'I') await this.send([sent]);
      else this.queue(sent, false);
    });
  }

  /** A transaction a file opened and did not end is refused (psql would lose its work when the file's session ends). */
  async endFile(file: SourceFile): Promise<void> {
    await this.guard(async () => {
      const begin = this.lastBegin;
      if (!begin || this.ownTransaction || this.client.getTransactionStatus() === 'I') return;
      await this.flush();
      await this.client.query('ROLLBACK');
      throw sourceError('SQL_OPEN_TRANSACTION', begin.source, begin.statement.line,
        `${begin.statement.text} starts a transaction that ${file.relativePath} never ends (no COMMIT after it); its work was rolled back`,
        `Add COMMIT; after the statements that belong to this transaction, in ${file.relativePath}: each file runs as if in a session of its own.`);
    });
  }

  /** Sends one step (see `run`). */
  async step(step: PlannedStep): Promise<void> {
    await this.run([step]);
  }

  /**
   * Sends steps in order. A statement that can wait for its batch is queued without an await of
   * its own: on files of small statements the per-statement cost is most of the runner's time.
   */
  async run(steps: PlannedStep[]): Promise<void> {
    await this.guard(async () => {
      for (const step of steps) {
        if (step.kind === 'statement' && !step.traits.alone && !step.traits.endsBatch) {
          if (step.traits.setsDefaults) this.defaultsChanged = true;
          this.queue(this.pendingFor(step), step.traits.ddl);
          if (this.pendingChars >= this.batchChars) await this.flush();
        } else {
          await this.one(step);
        }
      }
    });
  }

  private pendingFor(step: PlannedStatement | PlannedCopy): Pending {
    if (step.references.length === 0) return { source: step.source, statement: step.statement, sql: step.statement.text, toSource: unchanged, counted: true };
    const substituted = substitute(step.statement.text, this.variables, step.references);
    return { source: step.source, statement: step.statement, sql: substituted.text, toSource: substituted.toSource, counted: true };
  }

  private async one(step: PlannedStep): Promise<void> {
    if (step.kind === 'variable') {
      const problem = applySetCommand(step.meta.command, step.meta.args, this.variables);
      if (problem) throw sourceError('SQL_META_COMMAND', step.source, step.meta.line, `${problem} cannot run in-process`, PSQL_HINT, { command: step.meta.command });
      return;
    }
    const sent = this.pendingFor(step);
    if (step.kind === 'copy') {
      await this.flush();
      await this.enterOwnTransaction();
      this.stats.roundTrips++;
      this.stats.copyRows += await runCopy(this.client, sent, step.dataLine, step.data, this.onCopyProgress && { totalBytes: step.dataBytes, onProgress: this.onCopyProgress });
      this.stats.statements++;
      return;
    }
    const traits = step.traits;
    if (traits.setsDefaults) this.defaultsChanged = true;
    if (traits.alone) {
      await this.flush();
      if (traits.transactionControl || traits.noTransactionBlock) await this.commitOwnTransaction();
      const idle = this.client.getTransactionStatus() === 'I';
      await this.send([sent]);
      const first = step.statement.words[0];
      // Only a BEGIN that really opened a transaction (not one inside the caller's) is the files' to end.
      if (idle && (first === 'BEGIN' || first === 'START')) this.lastBegin = step;
      return;
    }
    // ALTER TYPE ... ADD VALUE: the new value is usable only after a commit.
    this.queue(sent, traits.ddl);
    await this.flush();
    await this.commitOwnTransaction();
  }

  private queue(statement: Pending, ddl: boolean): void {
    this.pending.push(statement);
    this.pendingChars += statement.sql.length;
    if (ddl) this.pendingDdl++;
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
      this.pendingChars = 0;
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

  private async send(statements: Pending[]): Promise<void> {
    this.stats.roundTrips++;
    if (statements.length === 1) {
      const only = statements[0] as Pending;
      try {
        await runDiscarding(this.client, only.sql);
      } catch (error) {
        throw statementError(only, error);
      }
    } else {
      // Inside an open transaction a failed batch cannot simply be re-run: give it a savepoint to roll back to.
      const inSavepoint = this.client.getTransactionStatus() === 'T';
      const batch = buildBatch(statements, inSavepoint);
      const progress = { completed: 0 };
      try {
        await runDiscarding(this.client, batch.text, progress);
      } catch (error) {
        throw await batchError(this.client, batch, inSavepoint, error, progress.completed);
      }
    }
    for (const statement of statements) if (statement.counted) this.stats.statements++;
  }
}
