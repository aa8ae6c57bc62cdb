import { fileURLToPath } from 'node:url';
import { lease, type Lease } from 'dbfast';
import { afterAll, beforeAll } from 'vitest';

let leased: Lease | undefined;

/** This test file's own database (leased before its first test). */
export function database(): Lease {
  if (!leased) throw new Error('no database leased: is database.ts in setupFiles?');
  return leased;
}

beforeAll(async () => {
  leased = await lease({ configPath: fileURLToPath(new URL('./dbfast.toml', import.meta.url)), environment: 'test' });
  // What the application under test reads; the URL carries the password, so never log it.
  process.env.DATABASE_URL = leased.url;
});

afterAll(async () => {
  // Back to the pool when the tests only read; dropped (off this file's path) when they wrote.
  await leased?.release();
});
