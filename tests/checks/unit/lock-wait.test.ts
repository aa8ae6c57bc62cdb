import { describe, expect, it } from 'vitest';
import { describeBlocker, describeLockWait, type Blocker } from '../../../src/pg/lock-wait.js';

const visible: Blocker = {
  pid: 4242, user: 'app', application: 'nightly-report', client: '10.0.0.7', state: 'idle in transaction',
  transactionStart: '2026-12-01T10:00:00.000Z', queryStart: '2026-12-01T10:00:01.000Z', query: 'LOCK TABLE shop.customer IN ACCESS EXCLUSIVE MODE',
};
const hidden: Blocker = { pid: 7, user: 'postgres', application: 'psql', client: null, state: null, transactionStart: null, queryStart: null, query: null };

describe('describeBlocker', () => {
  it.each([
    ['everything visible (same role, or pg_read_all_stats)', visible,
      'pid 4242 (user app, application "nightly-report", client 10.0.0.7, transaction started 2026-12-01T10:00:00.000Z, last query started 2026-12-01T10:00:01.000Z: LOCK TABLE shop.customer IN ACCESS EXCLUSIVE MODE)'],
    ['another role\'s session: pid, user and application only', hidden,
      'pid 7 (user postgres, application "psql", query start not visible to this role (needs pg_read_all_stats))'],
    ['an active query, shortened', { ...visible, state: 'active', query: `SELECT ${'x'.repeat(200)}` },
      `pid 4242 (user app, application "nightly-report", client 10.0.0.7, transaction started 2026-12-01T10:00:00.000Z, running query started 2026-12-01T10:00:01.000Z: SELECT ${'x'.repeat(73)}…)`],
  ])('%s', (_name, blocker, expected) => {
    expect(describeBlocker(blocker)).toBe(expected);
  });
});

describe('describeLockWait', () => {
  it.each([
    [{ pid: 1, relation: 'shop.customer', waitedSeconds: 3, blockers: [hidden] }, 'waiting for a lock on shop.customer held by pid 7 (user postgres, application "psql", query start not visible to this role (needs pg_read_all_stats))'],
    [{ pid: 1, relation: null, waitedSeconds: 3, blockers: [] }, 'waiting for a lock held by another session'],
    [{ pid: 1, relation: 'a.b', waitedSeconds: 3, blockers: [hidden, { ...hidden, pid: 8 }] }, expect.stringMatching(/held by pid 7 .*; pid 8 /)],
  ])('%#', (wait, expected) => {
    expect(describeLockWait(wait)).toEqual(expected);
  });
});
