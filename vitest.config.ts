import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Tests share two clusters; a few files at a time keeps the 2-core machine responsive.
    maxWorkers: 3,
    minWorkers: 1,
    // dbfast's clean-up after a command (dropping replaced templates, making layer templates)
    // runs before the command returns instead of in a detached worker: no process outlives a
    // test. Tests of the detached worker unset it for their commands.
    env: { DBFAST_BACKGROUND: 'wait' },
  },
});
