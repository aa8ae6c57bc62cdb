import { describe, expect, inject, it } from 'vitest';
import { database } from '../database.js';
import { addTodo, todos } from './todo.js';

describe('add', () => {
  it('starts from the seeded template, in a database of its own', async () => {
    expect(database().template.builtAt).toBe(inject('templateBuiltAt'));
    expect((await todos()).map((todo) => todo.title)).toEqual(['write the schema', 'seed some rows', 'test it']);
  });

  it('writes only into its own database', async () => {
    await addTodo('buy milk', 'add');
    // The other files write at the same time, each into its own database.
    expect((await todos()).filter((todo) => todo.owner !== null)).toEqual([{ title: 'buy milk', done: false, owner: 'add' }]);
  });
});
