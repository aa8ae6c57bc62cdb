import { describe, expect, inject, it } from 'vitest';
import { database } from '../database.js';
import { addTodo, complete, todos } from './todo.js';

describe('complete', () => {
  it('starts from the seeded template, in a database of its own', async () => {
    expect(database().template.builtAt).toBe(inject('templateBuiltAt'));
    expect((await todos()).filter((todo) => !todo.done)).toHaveLength(1);
  });

  it('writes only into its own database', async () => {
    await complete(await addTodo('water the plants', 'complete'));
    expect((await todos()).filter((todo) => todo.owner !== null)).toEqual([{ title: 'water the plants', done: true, owner: 'complete' }]);
  });
});
