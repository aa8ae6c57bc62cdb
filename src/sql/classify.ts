import type { SqlStatement } from './split.js';

/** How a statement may be batched with others in one multi-statement simple query. */
export interface StatementTraits {
  /**
   * Must be sent as a query of its own: it refuses a transaction block (a multi-statement query
   * is an implicit one), it is transaction control (kept out of batches so every batch can be
   * re-run to locate a failure), or the file ends inside it.
   */
  alone: boolean;
  /** Refuses to run inside a transaction block: CREATE DATABASE, VACUUM, ... CONCURRENTLY, CALL, a DO that commits. */
  noTransactionBlock: boolean;
  transactionControl: boolean;
  /** Counts towards the locks a transaction holds (DDL): the runner commits its own transaction now and then. */
  ddl: boolean;
  /** Later statements may not see its effect in the same transaction (ALTER TYPE ... ADD VALUE): end the batch after it. */
  endsBatch: boolean;
  /** Changes the settings a new session starts with (ALTER DATABASE / ROLE ... SET or RESET). */
  setsDefaults: boolean;
  /** Why the in-process runner cannot run it faithfully, when it cannot. */
  refusal?: string;
}

const TRANSACTION_CONTROL = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE']);

/** First words of statements that PostgreSQL refuses inside a transaction block (implicit ones included). */
function refusesTransactionBlock(w: string[]): boolean {
  const [first, second] = w;
  switch (first) {
    case 'VACUUM':
    case 'CLUSTER':
    case 'REINDEX':
    case 'CALL': // a procedure that COMMITs needs a non-atomic context
      return true;
    case 'CREATE':
    case 'DROP':
      if (second === 'DATABASE' || second === 'TABLESPACE' || second === 'SUBSCRIPTION') return true;
      return (second === 'INDEX' || (second === 'UNIQUE' && w[2] === 'INDEX')) && w.includes('CONCURRENTLY');
    case 'ALTER':
      if (second === 'SYSTEM' || second === 'DATABASE' || second === 'SUBSCRIPTION') return true;
      return second === 'TABLE' && w.includes('DETACH') && w.includes('CONCURRENTLY');
    default:
      return false;
  }
}

const UTF8_NAMES = new Set(['UTF8', 'UTF-8', 'UNICODE', 'DEFAULT']);

/** Settings that change how the text itself must be read or sent; the in-process runner cannot follow them. */
function settingRefusal(statement: SqlStatement): string | undefined {
  const w = statement.words;
  if (w[0] !== 'SET') return undefined;
  const name = w[1] === 'SESSION' || w[1] === 'LOCAL' ? w[2] : w[1];
  if (name !== 'CLIENT_ENCODING' && name !== 'STANDARD_CONFORMING_STRINGS') return undefined;
  const value = /(?:=|\bTO)\s*'?([\w-]+)'?\s*;?\s*$/i.exec(statement.text)?.[1]?.toUpperCase();
  if (value === undefined) return undefined;
  if (name === 'CLIENT_ENCODING' && !UTF8_NAMES.has(value)) {
    return `sets client_encoding to ${value}; the in-process runner sends and reads UTF-8 only`;
  }
  if (name === 'STANDARD_CONFORMING_STRINGS' && ['OFF', 'FALSE', '0', 'NO'].includes(value)) {
    return 'turns standard_conforming_strings off, which changes how every later string literal is read';
  }
  return undefined;
}

/** The traits of most statements (DML, SELECT, most DDL): one shared object rather than one each. */
const PLAIN: Readonly<StatementTraits> = Object.freeze({ alone: false, noTransactionBlock: false, transactionControl: false, ddl: false, endsBatch: false, setsDefaults: false });
const PLAIN_DDL: Readonly<StatementTraits> = Object.freeze({ ...PLAIN, ddl: true });

/** How a statement must be sent, from its first words (and, for a few, its text). */
export function classify(statement: SqlStatement): StatementTraits {
  const w = statement.words;
  const first = w[0];
  const transactionControl =
    (first !== undefined && TRANSACTION_CONTROL.has(first)) ||
    (first === 'PREPARE' && w[1] === 'TRANSACTION');
  // A DO block that commits needs to run outside any transaction block, like CALL.
  const noTransactionBlock = refusesTransactionBlock(w) || (first === 'DO' && /\b(COMMIT|ROLLBACK)\b/i.test(statement.text));
  const alone = transactionControl || noTransactionBlock || statement.unclosed !== undefined;
  const ddl = first === 'CREATE' || first === 'ALTER' || first === 'DROP';
  const endsBatch = first === 'ALTER' && w[1] === 'TYPE' && w.includes('ADD') && w.includes('VALUE');
  const setsDefaults = first === 'ALTER' && ['DATABASE', 'ROLE', 'USER', 'GROUP'].includes(w[1] ?? '') && (w.includes('SET') || w.includes('RESET'));
  const refusal = first === 'COPY' && w.includes('TO') && w.includes('STDOUT') ? 'is COPY ... TO STDOUT, whose output only psql can print' : settingRefusal(statement);
  if (refusal === undefined && !alone && !endsBatch && !setsDefaults) return ddl ? PLAIN_DDL : PLAIN;
  const traits: StatementTraits = { alone, noTransactionBlock, transactionControl, ddl, endsBatch, setsDefaults };
  if (refusal !== undefined) traits.refusal = refusal;
  return traits;
}
