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
  },
});
