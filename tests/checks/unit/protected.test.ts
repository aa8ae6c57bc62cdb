import { describe, expect, it } from 'vitest';
import { protectedDatabaseReason } from '../../../src/pg/system-databases.js';
import { protectedDatabaseError } from '../../../src/validate/protected.js';

describe('protectedDatabaseReason', () => {
  it.each([
    ['template0', false, /template database of PostgreSQL's own/],
    ['template1', false, /every new database on the server is copied from it/],
    ['postgres', false, /maintenance database/],
    ['shop', true, /marked as a template database/],
    ['shop', false, undefined],
    ['Template1', false, undefined],
    ['postgres_app', false, undefined],
  ] as const)('%s (datistemplate %s)', (name, isTemplate, expected) => {
    const reason = protectedDatabaseReason(name, isTemplate);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });
});

describe('protectedDatabaseError', () => {
  it('reads as a sentence: the reason, then what dbfast refuses (it was "refusing to deploy to or restore over \\"postgres\\" is ...")', () => {
    const error = protectedDatabaseError(protectedDatabaseReason('postgres') as string, 'remotes.t1.url');
    expect(error.message).toBe(`"postgres" is the server's maintenance database, where dbfast and other tools connect for admin work: dbfast never deploys to it, restores over it or rolls it back; nothing was changed`);
    expect(error.hint).toContain('remotes.t1.url');
  });
});
