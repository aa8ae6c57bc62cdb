import { describe, expect, inject, it } from 'vitest';
import { database } from '../database.js';
import { todos } from './todo.js';

describe('report (reads only)', () => {
  it('counts what is left to do; its database goes back to the pool unchanged', async () => {
    expect(database().template.builtAt).toBe(inject('templateBuiltAt'));
    expect((await todos()).filter((todo) => !todo.done)).toHaveLength(1);
  });
});
