import { fileURLToPath } from 'node:url';
import { createPool } from 'dbfast';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** When the template the whole run uses was built: every test file checks its database came from it. */
    templateBuiltAt: string;
  }
}

/**
 * Builds the `test` environment's template when its SQL files changed (once per run), and keeps
 * ready clones of it on the server while the tests run: each test file's lease() takes one
 * instead of waiting for a clone, and this pool makes the next one meanwhile.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pool = await createPool({ configPath: fileURLToPath(new URL('./dbfast.toml', import.meta.url)), environment: 'test' });
  project.provide('templateBuiltAt', pool.stats().templateBuiltAt);
  return () => pool.close();
}
