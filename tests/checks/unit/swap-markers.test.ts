import { describe, expect, it } from 'vitest';
import { foreignPreviousProblem, foreignSidesProblem } from '../../../src/pg/swap-markers.js';

describe('swap name problems', () => {
  it('quote database names as PostgreSQL does, so a name with a double quote reads unambiguously', () => {
    const sides = foreignSidesProblem(new Map([['we\'ird"db__dbfast_new', null]]));
    expect(sides?.message).toMatch(/^database "we'ird""db__dbfast_new" exists but was not made by dbfast/);
    const previous = foreignPreviousProblem('a"b', 'a"b__dbfast_prev');
    expect(previous.message).toMatch(/^database "a""b__dbfast_prev" exists but is not dbfast's previous copy of "a""b"/);
    expect(previous.hint).toContain('ALTER DATABASE "a""b__dbfast_prev" RENAME TO "a""b_saved";');
  });
});
