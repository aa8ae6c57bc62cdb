import type pg from 'pg';
import { withFailureContext } from './operational.js';

const TRACKED = Symbol.for('dbfast.failuresTracked');

function statementOf(args: unknown[]): string | undefined {
  const first = args[0];
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && typeof (first as { text?: unknown }).text === 'string') return (first as { text: string }).text;
  return undefined;
}

/**
 * Makes every failed `client.query` promise carry who asked what (role, database, statement),
 * so the error mapping can say which privilege to grant to whom. Results and streaming
 * queries (pg-copy-streams) pass through untouched.
 */
export function trackFailures<C extends pg.Client>(client: C): C {
  const marked = client as C & { [TRACKED]?: boolean };
  if (marked[TRACKED]) return client;
  marked[TRACKED] = true;
  const original = client.query.bind(client) as (...args: unknown[]) => unknown;
  const context = (args: unknown[]) => ({ user: client.user, database: client.database, statement: statementOf(args)?.slice(0, 500) });
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = original(...args);
    if (result instanceof Promise) return result.catch((error: unknown) => Promise.reject(withFailureContext(error, context(args))));
    return result;
  };
  return client;
}
