import { describe, expect, it } from 'vitest';
import { protectedDatabaseReason } from '../../../src/pg/system-databases.js';

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
