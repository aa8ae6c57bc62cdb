import pg from 'pg';

/** The "application": a tiny todo store that reads DATABASE_URL, as an app would. */
export async function withDb<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function addTodo(title: string, owner: string): Promise<number> {
  return withDb(async (client) => (await client.query<{ id: number }>('INSERT INTO todo (title, owner) VALUES ($1, $2) RETURNING id', [title, owner])).rows[0]!.id);
}

export function todos(): Promise<Array<{ title: string; done: boolean; owner: string | null }>> {
  return withDb(async (client) => (await client.query('SELECT title, done, owner FROM todo ORDER BY id')).rows);
}

export function complete(id: number): Promise<void> {
  return withDb(async (client) => void (await client.query('UPDATE todo SET done = true WHERE id = $1', [id])));
}
