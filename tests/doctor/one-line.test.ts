import { describe, expect, it } from 'vitest';
import { oneLine } from '../../src/doctor/remotes.js';

describe("doctor's one-line findings", () => {
  it('keep the items of a message that introduces a list, and only the first line of any other', () => {
    expect(oneLine('1 repository folder does not exist:\n  repositories[0].path: /tmp/core-sql (repository "core")')).toBe(
      '1 repository folder does not exist: repositories[0].path: /tmp/core-sql (repository "core")',
    );
    expect(oneLine('0/001.sql:1:5: syntax error\n  1 | SELEC 1\n    | ^')).toBe('0/001.sql:1:5: syntax error');
  });
});
