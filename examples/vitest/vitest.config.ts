import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Inside the dbfast repository the package is its own build; a project of yours imports
  // 'dbfast' from node_modules and needs no alias.
  resolve: { alias: { dbfast: fileURLToPath(new URL('../../dist/index.js', import.meta.url)) } },
  test: {
    include: ['tests/**/*.test.ts'],
    // Once per run, in the main process: build the template when stale, keep ready clones.
    globalSetup: ['./global-setup.ts'],
    // In every test file: lease its own database before its tests, release it after.
    setupFiles: ['./database.ts'],
    pool: 'forks',
  },
});
