import type pg from 'pg';

/** What pg hands a submittable query: the connection to send on. */
interface Connection {
  query(text: string): void;
  sendCopyFail(message: string): void;
}

/**
 * A simple-protocol query whose results nobody reads: a batch of a few thousand statements.
 * pg's own Query keeps a Result object per statement of a multi-statement query until the
 * batch ends; this one keeps nothing, so a batch costs no memory per statement on the way back.
 * Passed to `client.query` as a "submittable" (the interface pg-copy-streams uses too).
 */
class DiscardingQuery {
  readonly done: Promise<void>;

  private resolve: () => void = () => undefined;
  private reject: (error: unknown) => void = () => undefined;

  constructor(
    readonly text: string,
    private readonly progress: QueryProgress,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {
    this.progress.completed++;
  }

  handleCommandComplete(): void {
    this.progress.completed++;
  }
  handleCopyData(): void {}

  /** COPY ... FROM STDIN is sent as a COPY of its own, never in a batch: refuse rather than hang. */
  handleCopyInResponse(connection: Connection): void {
    connection.sendCopyFail('COPY FROM STDIN cannot run inside a batch');
  }

  /** pg calls this instead of handleReadyForQuery when the query fails (server error or lost connection). */
  handleError(error: unknown): void {
    this.reject(error);
  }

  handleReadyForQuery(): void {
    this.resolve();
  }
}

/** How far a query got: statements the server finished (CommandComplete or EmptyQueryResponse), in order. */
export interface QueryProgress {
  completed: number;
}

/**
 * Runs `text` (one statement or many) on `client` and resolves when it is done; rejects with pg's
 * error. `progress.completed` counts the statements finished: the server runs a multi-statement
 * query in order and reports each one's completion as it goes, so on failure the failing
 * statement is the next one (whatever the error, a cancel and a lost connection included).
 */
export function runDiscarding(client: pg.Client, text: string, progress?: QueryProgress): Promise<void> {
  const query = new DiscardingQuery(text, progress ?? { completed: 0 });
  (client as unknown as { query(submittable: DiscardingQuery): void }).query(query);
  return query.done;
}
